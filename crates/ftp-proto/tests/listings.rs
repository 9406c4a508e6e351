//! Listing corpora (testdata/ftp-listings/) in the styles of vsftpd, ProFTPD,
//! Pure-FTPd, glftpd, IIS and RFC 3659 MLSD, plus writer/parser round trips.

use bytes::BytesMut;
use ftp_proto::Timestamp;
use ftp_proto::list::{
    DosEntry, FileInfo, FileKind, ListLine, MlsxEntry, MlsxFacts, UnixEntry, lines, parse_dos,
    parse_list_line, parse_mlsx, parse_unix, write_mlsx, write_unix,
};
use proptest::prelude::*;
use std::path::PathBuf;

fn now() -> Timestamp {
    Timestamp::new(2024, 6, 15, 12, 0, 0).unwrap()
}

fn corpus(name: &str) -> (String, Vec<u8>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ftp-listings")
        .join(name);
    let data = std::fs::read(&path).unwrap();
    let format = data
        .split(|&c| c == b'\n')
        .find_map(|l| l.strip_prefix(b"# format: "))
        .map(|f| String::from_utf8_lossy(f).trim().to_owned())
        .unwrap();
    (format, data)
}

fn entries(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&c| c == b'\n')
        .filter(|l| !l.is_empty() && !l.starts_with(b"#"))
}

fn unix_lines(data: &[u8]) -> Vec<ListLine<'_>> {
    entries(data).map(|l| parse_list_line(l, now())).collect()
}

fn find<'a>(lines: &[ListLine<'a>], name: &[u8]) -> UnixEntry<'a> {
    lines
        .iter()
        .find_map(|l| match l {
            ListLine::Unix(e) if e.name == name => Some(*e),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{} not found", String::from_utf8_lossy(name)))
}

#[test]
fn every_corpus_line_parses_in_its_format() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/ftp-listings");
    let mut files = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let (format, data) = corpus(&name);
        files += 1;
        for line in entries(&data) {
            let ok = match format.as_str() {
                "unix" => !matches!(parse_list_line(line, now()), ListLine::Raw(_)),
                "dos" => parse_dos(line).is_ok() && matches!(parse_list_line(line, now()), ListLine::Dos(_)),
                "mlsd" => parse_mlsx(line).is_ok(),
                other => panic!("unknown format {other}"),
            };
            assert!(
                ok,
                "{name}: {:?} does not parse as {format}",
                String::from_utf8_lossy(line)
            );
        }
    }
    assert!(files >= 8);
}

#[test]
fn vsftpd() {
    let (_, data) = corpus("vsftpd.txt");
    let l = unix_lines(&data);
    let e = find(&l, b"incoming");
    assert_eq!(
        (e.kind, e.mode, e.links, e.owner, e.group),
        (FileKind::Dir, 0o755, Some(2), &b"1000"[..], Some(&b"1000"[..]))
    );
    assert_eq!(
        (e.modified, e.year_inferred),
        (Timestamp::new(2024, 3, 3, 9, 15, 0).unwrap(), true)
    );
    assert_eq!(find(&l, b"1MB.bin").size, 1_048_576);
    assert_eq!(find(&l, b"tmp").mode, 0o1777);
    assert_eq!(find(&l, b"latest").link_target, Some(&b"release-1.2"[..]));
    let leap = find(&l, b"leap day.txt");
    assert_eq!(
        (leap.modified, leap.year_inferred),
        (Timestamp::new(2024, 2, 29, 0, 0, 0).unwrap(), false)
    );
    assert_eq!(find(&l, b"passwd").mode, 0o4755);
}

#[test]
fn proftpd() {
    let (_, data) = corpus("proftpd.txt");
    let l = unix_lines(&data);
    assert_eq!(l[0], ListLine::Total(36));
    // December is after "now" (June 2024): the year before.
    assert_eq!(
        find(&l, b"christmas special.mp4").modified,
        Timestamp::new(2023, 12, 24, 18, 30, 0).unwrap()
    );
    assert_eq!(find(&l, b"readme.txt").modified.year, 2024);
    let shared = find(&l, b"shared");
    assert!(shared.acl && !shared.xattr);
    assert_eq!(find(&l, b"; semicolon; name").owner, b"alice");
    assert_eq!(find(&l, b"  two leading spaces").size, 12);
    assert_eq!(find(&l, b"broken").link_target, Some(&b"/nowhere"[..]));
    assert_eq!(find(&l, b"..").owner, b"root");
}

#[test]
fn pure_ftpd_and_glftpd() {
    let (_, data) = corpus("pure-ftpd.txt");
    let l = unix_lines(&data);
    assert_eq!(find(&l, b"five gigabytes.iso").size, 5_368_709_120);
    assert_eq!(
        find(&l, b"pub").modified,
        Timestamp::new(2019, 12, 3, 0, 0, 0).unwrap()
    );
    assert_eq!(find(&l, b"fifo").kind, FileKind::Pipe);
    assert_eq!(find(&l, b"socket").kind, FileKind::Socket);
    let (_, data) = corpus("glftpd.txt");
    let l = unix_lines(&data);
    assert_eq!(find(&l, b"Apps").mode, 0o777);
    assert_eq!(find(&l, b"Archive").group, Some(&b"NoGroup"[..]));
    assert_eq!(find(&l, b"release.part01.rar").size, 12_345_678);
}

#[test]
fn unix_odd_shapes() {
    let (_, data) = corpus("unix-misc.txt");
    let l = unix_lines(&data);
    let e = find(&l, b"no group column");
    assert_eq!(
        (e.links, e.owner, e.group, e.size),
        (Some(1), &b"owner"[..], None, 1234)
    );
    assert!(find(&l, b".DS_Store").xattr);
    assert_eq!(find(&l, b"selinux").size, 100);
    let null = find(&l, b"null");
    assert_eq!(
        (null.kind, null.device, null.size),
        (FileKind::CharDevice, Some((1, 3)), 0)
    );
    assert_eq!(find(&l, b"sda").device, Some((8, 0)));
    assert_eq!(find(&l, b"ttyS0").device, Some((4, 64)));
    assert_eq!(find(&l, b"setgid").mode, 0o2755);
    assert_eq!(find(&l, b"sticky no exec").mode, 0o1644);
    let m = find(&l, b"owner named like a month");
    assert_eq!((m.owner, m.group, m.size), (&b"jan"[..], Some(&b"feb"[..]), 4096));
}

#[test]
fn iis_dos() {
    let (_, data) = corpus("iis-dos.txt");
    let d: Vec<DosEntry<'_>> = entries(&data).map(|l| parse_dos(l).unwrap()).collect();
    assert_eq!(
        (d[0].kind, d[0].name, d[0].size),
        (FileKind::Dir, &b"aspnet_client"[..], None)
    );
    assert_eq!(d[0].modified, Timestamp::new(2021, 2, 18, 15, 41, 0).unwrap());
    assert_eq!((d[1].size, d[1].name), (Some(689), &b"iisstart.htm"[..]));
    assert_eq!(
        (d[2].size, d[2].name, d[2].modified.year),
        (Some(1_234_567), &b"big file.zip"[..], 2020)
    );
    assert_eq!((d[3].modified.year, d[3].modified.hour), (1999, 0));
    assert_eq!(d[4].modified.hour, 12);
    assert_eq!((d[5].modified.hour, d[5].name), (14, &b"24h clock"[..]));
    assert!(parse_dos(b"13-45-21  03:41PM  1 x").is_err());
    assert!(parse_dos(b"02-18-21  13:41PM  1 x").is_err());
}

#[test]
fn mlsd_rfc3659() {
    let (_, data) = corpus("mlsd-rfc3659.txt");
    let m: Vec<MlsxEntry<'_>> = entries(&data).map(|l| parse_mlsx(l).unwrap()).collect();
    let kinds: Vec<_> = m.iter().take(8).map(|e| e.kind.unwrap()).collect();
    assert_eq!(
        kinds,
        [
            FileKind::CurrentDir,
            FileKind::ParentDir,
            FileKind::Symlink,
            FileKind::CharDevice,
            FileKind::BlockDevice,
            FileKind::File,
            FileKind::Dir,
            FileKind::Dir
        ]
    );
    assert_eq!(m[1].unique, Some(&b"keVO1+d?3"[..]));
    assert_eq!(m[7].perm, Some(&b""[..]));
    assert_eq!(m[8].name, b"two words");
    assert_eq!(m[9].name, b" leading space");
    let hatch = &m[10];
    assert_eq!(
        (hatch.name, hatch.size, hatch.perm),
        (&b"hatch.c"[..], Some(1830), Some(&b"r"[..]))
    );
    assert_eq!(hatch.modify, Timestamp::new(1994, 9, 16, 5, 56, 48));
    assert_eq!(m[11].name, b"a;b; c");
    assert_eq!(
        (m[12].name, m[12].raw_facts, m[12].kind),
        (&b"no facts at all"[..], &b""[..], None)
    );
    assert!(parse_mlsx(b"type=file no-semicolon").is_err());
    assert!(parse_mlsx(b"type=file;novalue; x").is_err());
    assert!(parse_mlsx(b"type=file;").is_err());
}

#[test]
fn mlsd_servers_keep_unknown_facts() {
    let (_, data) = corpus("mlsd-servers.txt");
    let m: Vec<MlsxEntry<'_>> = entries(&data).map(|l| parse_mlsx(l).unwrap()).collect();
    assert_eq!(
        (m[0].name, m[0].size, m[0].kind),
        (&b"notes; draft.txt"[..], Some(4096), Some(FileKind::File))
    );
    assert_eq!(m[0].fact(b"unix.MODE"), Some(&b"0644"[..]));
    assert_eq!(m[0].facts().count(), 8);
    assert_eq!(m[2].fact(b"UNIX.uid"), Some(&b"1001"[..]));
    assert_eq!(m[4].modify.unwrap().nanos, 123_000_000);
    assert_eq!(m[4].fact(b"create"), Some(&b"20240101000000"[..]));
}

fn name_strategy() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        any::<u8>().prop_filter("no CR/LF/NUL", |c| !matches!(c, b'\r' | b'\n' | 0)),
        1..24,
    )
    .prop_filter("no arrow", |n| !n.windows(4).any(|w| w == b" -> "))
}

fn kind_strategy() -> impl Strategy<Value = FileKind> {
    prop_oneof![
        Just(FileKind::File),
        Just(FileKind::Dir),
        Just(FileKind::Symlink),
        Just(FileKind::Pipe),
        Just(FileKind::Socket)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn unix_write_then_parse(
        name in name_strategy(),
        kind in kind_strategy(),
        mode in 0u16..0o7777,
        size in any::<u64>(),
        links in 1u64..5000,
        owner in "[a-z][a-z0-9_]{0,11}",
        group in "[a-z][a-z0-9_]{0,11}",
        age in 0i64..(3 * 365 * 86_400),
    ) {
        let modified = Timestamp::from_unix_seconds(now().unix_seconds() - age).unwrap();
        let modified = Timestamp { second: 0, ..modified };
        let info = FileInfo {
            name: &name, kind, size, modified, mode, links,
            owner: owner.as_bytes(), group: group.as_bytes(),
            link_target: (kind == FileKind::Symlink).then_some(&b"target"[..]),
            perm: None, unique: None,
        };
        let mut out = BytesMut::new();
        write_unix(&info, now(), &mut out).unwrap();
        let e = parse_unix(&out, now()).unwrap();
        prop_assert_eq!((e.name, e.kind, e.mode, e.size, e.links), (&name[..], kind, mode, size, Some(links)));
        prop_assert_eq!((e.owner, e.group), (owner.as_bytes(), Some(group.as_bytes())));
        prop_assert_eq!(e.link_target, info.link_target);
        if e.year_inferred {
            prop_assert_eq!(e.modified, modified);
        } else {
            prop_assert_eq!((e.modified.year, e.modified.month, e.modified.day), (modified.year, modified.month, modified.day));
        }
        prop_assert!(matches!(parse_list_line(&out, now()), ListLine::Unix(_)));
    }

    #[test]
    fn mlsx_write_then_parse(
        name in name_strategy(),
        kind in prop_oneof![Just(FileKind::File), Just(FileKind::Dir), Just(FileKind::CurrentDir), Just(FileKind::ParentDir)],
        size in any::<u64>(),
        secs in 0i64..4_000_000_000,
        nanos in prop_oneof![Just(0u32), 1u32..1_000_000_000],
        perm in proptest::option::of("[acdeflmprw]{0,6}"),
        unique in proptest::option::of("[A-Za-z0-9+?]{1,12}"),
    ) {
        let modified = Timestamp { nanos, ..Timestamp::from_unix_seconds(secs).unwrap() };
        let info = FileInfo {
            name: &name, kind, size, modified, mode: 0o644, links: 1, owner: b"o", group: b"g",
            link_target: None, perm: perm.as_deref().map(str::as_bytes), unique: unique.as_deref().map(str::as_bytes),
        };
        let mut out = BytesMut::new();
        write_mlsx(&info, MlsxFacts::default(), &mut out).unwrap();
        let e = parse_mlsx(&out).unwrap();
        prop_assert_eq!((e.name, e.kind, e.modify), (&name[..], Some(kind), Some(modified)));
        prop_assert_eq!(e.size, (kind == FileKind::File).then_some(size));
        prop_assert_eq!(e.perm, info.perm);
        prop_assert_eq!(e.unique, info.unique);
        // A listing of such lines splits back into the same lines.
        let mut two = out.clone();
        two.extend_from_slice(b"\r\n");
        two.extend_from_slice(&out);
        two.extend_from_slice(b"\r\n");
        prop_assert_eq!(lines(&two).count(), 2);
    }

    #[test]
    fn parsers_never_panic(line in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = parse_list_line(&line, now());
        let _ = parse_mlsx(&line);
        let _ = parse_dos(&line);
    }
}
