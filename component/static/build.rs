//! Embeds the browser app (`web/dist`) into the component: every file is hashed for
//! its ETag and precompressed (gzip, brotli) here, once, at maximum quality, so a
//! request costs a table lookup. Writes `$OUT_DIR/embedded.rs`, a table sorted by
//! path that `src/embedded.rs` includes.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[path = "src/content_type.rs"]
mod content_type;

/// Shown when the component is built before the app: it keeps the build working and
/// tells the operator what to run.
const PLACEHOLDER_INDEX: &str = "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>SkillTrack</title></head>\n<body>\n<h1>SkillTrack</h1>\n<p>The web app is not built. Run <code>make web-dist</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>), then rebuild the static component.</p>\n</body>\n</html>\n";

struct File {
    /// URL path, `/`-separated and starting with `/`.
    url_path: String,
    bytes: Vec<u8>,
}

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env("OUT_DIR"));
    // The override lets a build embed another app build (or a test fixture).
    println!("cargo::rerun-if-env-changed=SKILLTRACK_WEB_DIST");
    let dist = std::env::var_os("SKILLTRACK_WEB_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir.join("../../web/dist"));

    // A directory is scanned recursively by cargo; a missing one makes the script
    // run again on every build, which is what picks up a later `npm run build`.
    println!("cargo::rerun-if-changed={}", dist.display());
    println!("cargo::rerun-if-changed=src/content_type.rs");

    let mut files = Vec::new();
    if dist.is_dir() {
        collect(&dist, &dist, &mut files);
    }
    if !files.iter().any(|f| f.url_path == "/index.html") {
        println!(
            "cargo::warning=web/dist/index.html not found: embedding a placeholder page (run `make web-dist`)"
        );
        files.push(File {
            url_path: "/index.html".into(),
            bytes: PLACEHOLDER_INDEX.as_bytes().to_vec(),
        });
    }
    files.sort_by(|a, b| a.url_path.cmp(&b.url_path));

    let mut table = String::from("&[\n");
    for (i, file) in files.iter().enumerate() {
        let content_type = content_type::for_file_name(&file.url_path);
        let hash = Sha256::digest(&file.bytes);
        let tag: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();

        let identity = write_out(&out_dir, &format!("{i}"), &file.bytes);
        let (gzip, br) = if content_type::is_compressible(content_type) {
            let gz = gzip(&file.bytes);
            let br = brotli(&file.bytes);
            (
                (gz.len() < file.bytes.len()).then(|| write_out(&out_dir, &format!("{i}.gz"), &gz)),
                (br.len() < file.bytes.len()).then(|| write_out(&out_dir, &format!("{i}.br"), &br)),
            )
        } else {
            (None, None)
        };

        // Each encoding is its own representation, so each gets its own strong ETag.
        let rep = |path: &Path, suffix: &str| {
            format!(
                "Representation {{ etag: {:?}, body: include_bytes!({:?}) }}",
                format!("\"{tag}{suffix}\""),
                path.display().to_string()
            )
        };
        let opt = |path: &Option<PathBuf>, suffix: &str| match path {
            Some(p) => format!("Some({})", rep(p, suffix)),
            None => "None".into(),
        };
        writeln!(
            table,
            "    Asset {{ path: {:?}, content_type: {:?}, identity: {}, gzip: {}, br: {} }},",
            file.url_path,
            content_type,
            rep(&identity, ""),
            opt(&gzip, "-gz"),
            opt(&br, "-br"),
        )
        .expect("write to String");
    }
    table.push(']');
    std::fs::write(out_dir.join("embedded.rs"), table).expect("write embedded.rs");
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"))
}

/// Every regular file under `dir`, keyed by its path relative to `root`. Names that
/// could not be requested cleanly (hidden files, non-UTF-8, backslashes) are skipped.
fn collect(root: &Path, dir: &Path, files: &mut Vec<File>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("read {}: {e}", dir.display())))
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            println!(
                "cargo::warning=skipping non-UTF-8 file name {}",
                path.display()
            );
            continue;
        };
        if name.starts_with('.') || name.contains(['\\', '%', '?', '#']) {
            println!("cargo::warning=skipping {}", path.display());
            continue;
        }
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        if kind.is_dir() {
            collect(root, &path, files);
        } else if path.is_file() {
            let rel = path.strip_prefix(root).expect("path is under root");
            let url_path = rel
                .components()
                .map(|c| c.as_os_str().to_str().expect("checked UTF-8"))
                .fold(String::new(), |acc, c| acc + "/" + c);
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            files.push(File { url_path, bytes });
        }
    }
}

fn write_out(out_dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = out_dir.join(format!("asset-{name}"));
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).expect("brotli into memory");
    out
}
