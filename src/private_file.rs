//! Writing a file only its owner can read (a docker `config.json` with credentials, a build
//! secret, an EKS token) so that nothing planted in its folder can redirect or read it:
//! the one private-file writer every gate uses (the image gate's work folder, the rollout
//! gate's EKS token file).
//!
//! I/O (files only); knows no gate. It does not choose where the file lives: a caller
//! puts it in a folder of its own (0700) when it can.

use std::io::Write;
use std::path::Path;

/// How the temporary file's name starts; a random part follows.
const TEMP_PREFIX: &str = ".private-";

/// Write a file only its owner can read, replacing `path` atomically.
///
/// The bytes go to a fresh file in the same folder, created exclusively (`O_EXCL`, so no
/// symlink or file planted there is followed or reused) under a random name (so none can
/// be planted in advance) with mode 0600 from the start (never chmod-ed after the secret
/// is in it), then renamed over `path`: a reader (kube reads its token file at any moment)
/// sees the old file or the whole new one, never a partial write, and a symlink at `path`
/// is replaced, not followed. On any error the temporary file is removed.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    write_via(&mut builder, path, bytes)
}

/// [`write_private`], the temporary file named by `builder` (a test fixes the name to plant
/// something there).
fn write_via(builder: &mut tempfile::Builder, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut tmp = builder.tempfile_in(folder)?;
    tmp.write_all(bytes)?;
    // No fsync: these files live only as long as the run (a crash leaves them to the
    // runner, which empties RUNNER_TEMP), and readers need the rename's atomicity, not
    // durability; a flush would cost a disk sync on every write.
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
#[cfg(unix)]
pub(crate) mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// The permission bits of `p` itself (a symlink's own, not its target's).
    pub(crate) fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn private_files_are_0600_replaced_whole_and_never_follow_links() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        write_private(&path, b"first").unwrap();
        assert_eq!(mode(&path), 0o600);
        // An existing, world-readable file is replaced, not rewritten in place.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"second").unwrap();
        assert_eq!(
            (std::fs::read(&path).unwrap(), mode(&path)),
            (b"second".to_vec(), 0o600)
        );
        // A symlink at the path is replaced; its target keeps its content.
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "untouched").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_private(&link, b"secret").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
        assert!(!std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(mode(&link), 0o600);
        assert_eq!(
            names(dir.path()),
            ["config.json", "elsewhere", "link.json"],
            "no temporary file left behind"
        );
    }

    #[test]
    fn a_symlink_planted_at_the_temporary_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("attacker-reads-this");
        std::fs::write(&target, "untouched").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let path = dir.path().join("token");

        // The temporary name fixed and a symlink planted there: the exclusive create
        // refuses it rather than writing the secret through it.
        let planted = dir.path().join(".private-planted");
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        let mut fixed = tempfile::Builder::new();
        fixed.prefix(".private-planted").rand_bytes(0);
        let err = write_via(&mut fixed, &path, b"s3cr3t").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
        assert_eq!(mode(&target), 0o644);
        assert!(std::fs::symlink_metadata(&planted).unwrap().is_symlink());
        assert!(!path.exists(), "nothing written on refusal");

        // A dangling symlink is refused too (no file created at its target).
        let dangling = dir.path().join(".private-dangling");
        std::os::unix::fs::symlink(dir.path().join("created-by-us"), &dangling).unwrap();
        let mut fixed = tempfile::Builder::new();
        fixed.prefix(".private-dangling").rand_bytes(0);
        assert!(write_via(&mut fixed, &path, b"s3cr3t").is_err());
        assert!(!dir.path().join("created-by-us").exists());

        // The name the rollout gate used to write through (`<path>.new`), planted: the
        // random name never meets it, and the file is written beside it.
        let old_name = dir.path().join("token.new");
        std::os::unix::fs::symlink(&target, &old_name).unwrap();
        write_private(&path, b"s3cr3t").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cr3t");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "untouched");
        assert!(std::fs::symlink_metadata(&old_name).unwrap().is_symlink());
    }
}
