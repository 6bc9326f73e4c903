//! A manifest the host cannot honour is refused before it binds: non-zero exit
//! and one message naming the field.

mod host_support;

use std::path::PathBuf;

use host_support::{misbehave_app, run_host_to_exit};

fn refused_with(manifest_text: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("spin.toml");
    std::fs::write(&manifest, manifest_text).expect("write manifest");
    let out = run_host_to_exit(&manifest, &dir.path().join("data"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "must be refused:\n{stderr}");
    assert!(!stderr.contains("listening on"), "{stderr}");
    stderr
}

fn valid_manifest() -> String {
    let app = misbehave_app("/...", "");
    std::fs::read_to_string(&app.manifest).expect("read manifest")
}

#[test]
fn an_unknown_trigger_type_is_refused_naming_it() {
    let text = format!(
        "{}\n[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"mb\"\n",
        valid_manifest()
    );
    assert!(refused_with(&text).contains("trigger.redis"));
}

#[test]
fn a_missing_source_file_is_refused_naming_the_component() {
    let text = valid_manifest().replace("misbehave.wasm", "does-not-exist.wasm");
    let stderr = refused_with(&text);
    assert!(stderr.contains("component.mb.source"), "{stderr}");
    assert!(stderr.contains("does-not-exist.wasm"), "{stderr}");
}

#[test]
fn a_reference_to_an_undefined_component_is_refused() {
    let text = valid_manifest().replace("component = \"mb\"", "component = \"ghost\"");
    let stderr = refused_with(&text);
    assert!(stderr.contains("trigger.http[0].component"), "{stderr}");
    assert!(stderr.contains("ghost"), "{stderr}");
}

#[test]
fn a_behaviour_changing_field_is_refused() {
    let text = format!("{}files = [\"static/**\"]\n", valid_manifest());
    assert!(refused_with(&text).contains("component.mb.files"));
}

#[test]
fn a_required_variable_without_a_value_is_refused() {
    let text = valid_manifest().replace(
        "[[trigger.http]]",
        "[variables]\nregion = { required = true }\n\n[[trigger.http]]",
    );
    let stderr = refused_with(&text);
    assert!(stderr.contains("variables.region"), "{stderr}");
    assert!(stderr.contains("SPIN_VARIABLE_REGION"), "{stderr}");
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bogus: PathBuf = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"not wasm").expect("write");
    let text = valid_manifest().replace(
        &integration::build_component("misbehave")
            .display()
            .to_string(),
        &bogus.display().to_string(),
    );
    let stderr = refused_with(&text);
    assert!(stderr.contains("component.mb.source"), "{stderr}");
}
