//! The Content-Type of an embedded file, from its extension. Used by build.rs (which
//! includes this file) so the served table carries the type; the list is small on
//! purpose: what a Vite build emits, plus the usual static extras.

/// The Content-Type for a file name; text types carry `charset=utf-8`.
pub fn for_file_name(name: &str) -> &'static str {
    let ext = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => return "application/octet-stream",
    };
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// Whether compressing a file of this type is worth trying: formats that are already
/// compressed only grow, and would waste space in the component.
pub fn is_compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.starts_with("application/json")
        || content_type.starts_with("application/manifest+json")
        || content_type.starts_with("application/xml")
        || content_type.starts_with("application/wasm")
        || content_type.starts_with("image/svg+xml")
        || content_type.starts_with("image/x-icon")
        || content_type.starts_with("font/ttf")
        || content_type.starts_with("font/otf")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_carry_utf8_charset() {
        assert_eq!(for_file_name("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            for_file_name("index-B2x9.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(for_file_name("index-C1.css"), "text/css; charset=utf-8");
    }

    #[test]
    fn the_web_app_manifest_has_its_registered_type_and_is_compressed() {
        let t = for_file_name("manifest.webmanifest");
        assert_eq!(t, "application/manifest+json");
        assert!(is_compressible(t));
    }

    #[test]
    fn extension_match_ignores_case() {
        assert_eq!(for_file_name("LOGO.SVG"), "image/svg+xml");
        assert_eq!(for_file_name("font.WOFF2"), "font/woff2");
    }

    #[test]
    fn unknown_or_missing_extension_is_octet_stream() {
        assert_eq!(for_file_name("README"), "application/octet-stream");
        assert_eq!(for_file_name(".htaccess"), "application/octet-stream");
        assert_eq!(for_file_name("data.xyz"), "application/octet-stream");
    }

    #[test]
    fn already_compressed_formats_are_not_recompressed() {
        assert!(is_compressible(for_file_name("a.js")));
        assert!(is_compressible(for_file_name("a.svg")));
        assert!(!is_compressible(for_file_name("a.png")));
        assert!(!is_compressible(for_file_name("a.woff2")));
    }
}
