//! The files of `web/dist`, embedded by build.rs.

/// One encoding of a file: its bytes and their strong ETag (quoted).
#[derive(Debug)]
pub struct Representation {
    pub etag: &'static str,
    pub body: &'static [u8],
}

/// One embedded file and the encodings it is available in.
#[derive(Debug)]
pub struct Asset {
    /// The URL path, e.g. `/assets/index-B2x9.js`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub identity: Representation,
    /// Present only when smaller than `identity`.
    pub gzip: Option<Representation>,
    /// Present only when smaller than `identity`.
    pub br: Option<Representation>,
}

/// Every embedded file, sorted by path.
pub static ASSETS: &[Asset] = include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The file at exactly this (already normalised) path.
pub fn find<'a>(assets: &'a [Asset], path: &str) -> Option<&'a Asset> {
    assets
        .binary_search_by(|a| a.path.cmp(path))
        .ok()
        .map(|i| &assets[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_holds_an_index_page() {
        assert!(ASSETS.windows(2).all(|w| w[0].path < w[1].path));
        let index = find(ASSETS, "/index.html").expect("index.html is always embedded");
        assert_eq!(index.content_type, "text/html; charset=utf-8");
        assert!(index.identity.etag.starts_with('"') && index.identity.etag.ends_with('"'));
    }

    #[test]
    fn compressed_encodings_are_smaller_and_tagged_apart() {
        for a in ASSETS {
            for rep in [&a.gzip, &a.br].into_iter().flatten() {
                assert!(rep.body.len() < a.identity.body.len(), "{}", a.path);
                assert_ne!(rep.etag, a.identity.etag, "{}", a.path);
            }
        }
    }

    #[test]
    fn lookup_is_exact() {
        assert!(find(ASSETS, "/index.html").is_some());
        assert!(find(ASSETS, "/INDEX.html").is_none());
        assert!(find(ASSETS, "index.html").is_none());
        assert!(find(ASSETS, "/index.html/").is_none());
    }
}
