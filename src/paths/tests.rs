//! Path mapping tests: the mapping table, sources, and inputs that once crashed or
//! took quadratic time.

use super::*;

fn mapper(prefix: Option<&str>, root: Option<&str>) -> PathMapper {
    PathMapper::new(
        "/home/runner/work/app/app",
        [
            "src/app/main.py",
            "src/app/util.py",
            "lib/util.py",
            "src/main/java/com/acme/Foo.java",
            "pkg/server/http.go",
            "web/src/index.ts",
        ]
        .map(String::from),
        prefix.map(String::from),
        root.map(String::from),
    )
}

#[test]
fn mapping_table() {
    let m = mapper(None, None);
    let cases: &[(&str, &[&str], Mapped)] = &[
        (
            "app/main.py",
            &["/home/runner/work/app/app/src"],
            Mapped::Repo("src/app/main.py".into()),
        ),
        (
            "src/app/main.py",
            &[],
            Mapped::Repo("src/app/main.py".into()),
        ),
        (
            "./src/app/../app/main.py",
            &[],
            Mapped::Repo("src/app/main.py".into()),
        ),
        (
            "/home/runner/work/app/app/lib/util.py",
            &[],
            Mapped::Repo("lib/util.py".into()),
        ),
        (
            "C:\\a\\app\\app\\web\\src\\index.ts",
            &[],
            Mapped::Repo("web/src/index.ts".into()),
        ),
        (
            "com/acme/Foo.java",
            &[],
            Mapped::Repo("src/main/java/com/acme/Foo.java".into()),
        ),
        (
            "github.com/acme/app/pkg/server/http.go",
            &[],
            Mapped::Repo("pkg/server/http.go".into()),
        ),
        (
            "/build/other/machine/src/app/util.py",
            &[],
            Mapped::Repo("src/app/util.py".into()),
        ),
        ("util.py", &[], Mapped::Unmapped("util.py".into())),
        (
            "/home/runner/work/app/app/gen/x.py",
            &[],
            Mapped::Unmapped("gen/x.py".into()),
        ),
    ];
    for (raw, sources, want) in cases {
        let sources: Vec<String> = sources.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(&m.map(raw, &sources), want, "{raw}");
    }
}

#[test]
fn prefix_and_source_root() {
    assert_eq!(
        mapper(Some("src"), None).map("app/util.py", &[]),
        Mapped::Repo("src/app/util.py".into())
    );
    assert_eq!(
        mapper(None, Some("/ci/build")).map("/ci/build/lib/util.py", &[]),
        Mapped::Repo("lib/util.py".into())
    );
}

#[test]
fn normalize_cases() {
    assert_eq!(normalize("a\\b\\..\\c"), "a/c");
    assert_eq!(normalize("/x/./y//z/"), "/x/y/z");
    assert_eq!(normalize("../a"), "../a");
    // `normalized` is `normalize`, borrowing what is already normal.
    for p in [
        "",
        "/",
        "a",
        "a/b.rs",
        "/w/a/b.rs",
        "./a",
        "a/./b",
        "a//b",
        "a/",
        "d1/../a.py",
        "../a",
        "a\\b",
        "/..",
        "..",
        "a/..",
        "é/ü.rs",
    ] {
        let n = normalized(p);
        assert_eq!(n, normalize(p), "{p:?}");
        assert_eq!(
            matches!(n, std::borrow::Cow::Borrowed(_)),
            n == p && !p.contains("..") && !p.contains("./"),
            "{p:?}"
        );
    }
}

#[test]
fn multibyte_character_at_the_workspace_boundary_is_no_match() {
    // `.../wsé/x.rs` against workspace `.../ws4`: the byte slice once cut inside `é`.
    let m = PathMapper::new("/home/r/ws4", ["x.rs".to_owned()], None, None);
    assert_eq!(m.map("/home/r/wsé/x.rs", &[]), Mapped::Repo("x.rs".into()));
    assert_eq!(
        m.map("/home/r/wsé/y.rs", &[]),
        Mapped::Unmapped("/home/r/wsé/y.rs".into())
    );
    let m = PathMapper::new("/é", ["a".to_owned()], None, None);
    assert_eq!(m.map("/\u{e8}x/b", &[]), Mapped::Unmapped("/èx/b".into()));
}

#[test]
fn first_source_that_holds_the_file_wins() {
    let m = PathMapper::new(
        "/ws",
        ["a/x.py", "b/x.py", "x.py", "c/d/x.py"].map(String::from),
        None,
        None,
    );
    let src = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        m.map("x.py", &src(&["/ws/b", "/ws/a"])),
        Mapped::Repo("b/x.py".into())
    );
    assert_eq!(
        m.map("x.py", &src(&["/elsewhere", "a"])),
        Mapped::Repo("a/x.py".into())
    );
    assert_eq!(m.map("x.py", &src(&["/ws"])), Mapped::Repo("x.py".into()));
    assert_eq!(
        m.map("../x.py", &src(&["/ws/c/d/e"])),
        Mapped::Repo("c/d/x.py".into())
    );
    assert_eq!(
        m.map("d/x.py", &src(&["/ws/c", "/ws/a"])),
        Mapped::Repo("c/d/x.py".into())
    );
    // No source holds it: the path as written, then the unique suffix.
    assert_eq!(
        m.map("x.py", &src(&["/ws/zzz"])),
        Mapped::Repo("x.py".into())
    );
}

#[test]
fn many_sources_and_classes_map_like_the_plain_loop() {
    // The indexed lookup must agree with the obvious definition on a grid of cases.
    let tracked: Vec<String> = (0..40)
        .flat_map(|d| (0..5).map(move |f| format!("d{d}/s/f{f}.py")))
        .collect();
    let m = PathMapper::new("/ws", tracked.clone(), None, None);
    let sources: Vec<String> = (0..40)
        .rev()
        .step_by(3)
        .map(|d| format!("/ws/d{d}"))
        .collect();
    let mut rm = m.for_report(&sources);
    for f in 0..6 {
        let p = format!("s/f{f}.py");
        let want = sources
            .iter()
            .map(|s| format!("{}/{p}", s.trim_start_matches("/ws/")))
            .find(|c| tracked.contains(c));
        let got = rm.map(&p);
        match want {
            Some(w) => assert_eq!(got, Mapped::Repo(w)),
            None => assert_eq!(got, Mapped::Unmapped(p.clone())),
        }
    }
}

#[test]
fn very_deep_paths_are_mapped_in_one_pass() {
    let deep = "a/".repeat(100_000) + "main.py";
    let m = PathMapper::new(
        "/ws",
        ["a/a/main.py".to_owned(), "b/main.py".to_owned()],
        None,
        None,
    );
    assert_eq!(m.map(&deep, &[]), Mapped::Repo("a/a/main.py".into()));
    let many: Vec<String> = (0..20_000).map(|i| format!("d{i}/main.py")).collect();
    let m = PathMapper::new("/ws", many, None, None);
    assert_eq!(m.map(&deep, &[]), Mapped::Unmapped(normalize(&deep)));
    assert_eq!(
        m.map("x/d7/main.py", &[]),
        Mapped::Repo("d7/main.py".into())
    );
}

/// Inputs under `fuzz/regressions/paths/` (NUL-separated fields as the fuzz target reads
/// them) keep its invariant: no panic, a mapped path is a tracked file.
#[test]
fn fuzz_regression_inputs_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions/paths");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text =
            String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()).into_owned();
        check_fuzz_case(&text);
        n += 1;
    }
    assert!(n > 0);
}
