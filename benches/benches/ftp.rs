//! FTP listing parsers: 10,000-line Unix `ls -l` and MLSD listings parsed by
//! ftp-proto next to suppaftp's `ListParser` in the same run, plus reply
//! parsing (borrowed, no allocation) on a multi-line FEAT reply.

use benches::report_ratio;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ftp_proto::list::{lines, parse_mlsx, parse_unix};
use ftp_proto::{Reply, ReplyConfig, Timestamp};
use suppaftp::list::ListParser;

const LINES: usize = 10_000;

fn rng(seed: &mut u32) -> u32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 17;
    *seed ^= *seed << 5;
    *seed
}

const NAMES: [&str; 8] = [
    "readme.txt",
    "My Documents",
    "release.part01.rar",
    "photo 2024-01-01.jpg",
    "a",
    "index.html",
    "data.tar.gz",
    "notes; draft.txt",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A Unix listing in the styles of vsftpd/proftpd/pure-ftpd: files, dirs,
/// symlinks, both date forms, names with spaces. CRLF line ends.
fn unix_listing() -> String {
    let mut s = String::new();
    let mut seed = 0x1234_5678;
    for i in 0..LINES {
        let r = rng(&mut seed);
        let (kind, perms) = match r % 10 {
            0..=5 => ('-', "rw-r--r--"),
            6..=8 => ('d', "rwxr-xr-x"),
            _ => ('l', "rwxrwxrwx"),
        };
        let size = (r >> 8) % 50_000_000;
        let month = MONTHS[(r >> 3) as usize % 12];
        let day = 1 + (r >> 5) % 28;
        let when = if r.is_multiple_of(3) {
            format!(" {}", 2000 + (r >> 7) % 24)
        } else {
            format!("{:02}:{:02}", (r >> 9) % 24, (r >> 11) % 60)
        };
        let name = format!("{}{i}", NAMES[(r >> 13) as usize % NAMES.len()]);
        let target = if kind == 'l' {
            " -> ../target".to_owned()
        } else {
            String::new()
        };
        s.push_str(&format!(
            "{kind}{perms}   1 ftp      ftp      {size:>10} {month} {day:>2} {when:>5} {name}{target}\r\n"
        ));
    }
    s
}

/// An MLSD listing as ProFTPD/Pure-FTPd send it.
fn mlsd_listing() -> String {
    let mut s = String::new();
    let mut seed = 0x9e37_79b9;
    for i in 0..LINES {
        let r = rng(&mut seed);
        let ty = if r.is_multiple_of(4) { "dir" } else { "file" };
        let size = (r >> 8) % 50_000_000;
        let name = format!("{}{i}", NAMES[(r >> 13) as usize % NAMES.len()]);
        s.push_str(&format!(
            "type={ty};size={size};modify=2024{:02}{:02}{:02}{:02}{:02};perm=adfrw;unique=803g{i:x};UNIX.mode=0644;UNIX.uid=1000;UNIX.gid=1000; {name}\r\n",
            1 + r % 12, 1 + (r >> 4) % 28, (r >> 9) % 24, (r >> 11) % 60, (r >> 17) % 60
        ));
    }
    s
}

fn now() -> Timestamp {
    Timestamp::new(2024, 6, 15, 12, 0, 0).expect("valid")
}

fn ours_unix(listing: &str) -> u64 {
    let mut total = 0;
    let now = now();
    for line in lines(listing.as_bytes()) {
        if let Ok(e) = parse_unix(line, now) {
            total += e.size + u64::from(e.modified.day) + e.name.len() as u64;
        }
    }
    total
}

fn peer_unix(listing: &str) -> u64 {
    let mut total = 0;
    for line in listing.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Ok(f) = ListParser::parse_posix(line) {
            total += f.size() as u64 + f.name().len() as u64;
        }
    }
    total
}

fn ours_mlsd(listing: &str) -> u64 {
    let mut total = 0;
    for line in lines(listing.as_bytes()) {
        if let Ok(e) = parse_mlsx(line) {
            total += e.size.unwrap_or(0) + e.modify.map_or(0, |t| u64::from(t.day)) + e.name.len() as u64;
        }
    }
    total
}

fn peer_mlsd(listing: &str) -> u64 {
    let mut total = 0;
    for line in listing.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Ok(f) = ListParser::parse_mlsd(line) {
            total += f.size() as u64 + f.name().len() as u64;
        }
    }
    total
}

fn bench(c: &mut Criterion) {
    let unix = unix_listing();
    let mlsd = mlsd_listing();
    // Both parsers must accept every line, or the comparison means nothing.
    let count = |s: &str, f: &dyn Fn(&str) -> bool| {
        s.split("\r\n").filter(|l| !l.is_empty()).filter(|l| f(l)).count()
    };
    assert_eq!(count(&unix, &|l| parse_unix(l.as_bytes(), now()).is_ok()), LINES);
    assert_eq!(count(&unix, &|l| ListParser::parse_posix(l).is_ok()), LINES);
    assert_eq!(count(&mlsd, &|l| parse_mlsx(l.as_bytes()).is_ok()), LINES);
    assert_eq!(count(&mlsd, &|l| ListParser::parse_mlsd(l).is_ok()), LINES);

    let mut g = c.benchmark_group("ftp_list_unix_10k");
    g.throughput(Throughput::Bytes(unix.len() as u64));
    g.sample_size(10);
    g.bench_function("ftp_proto::list::parse_unix", |b| b.iter(|| ours_unix(&unix)));
    g.bench_function("suppaftp ListParser::parse_posix", |b| {
        b.iter(|| peer_unix(&unix));
    });
    g.finish();

    let mut g = c.benchmark_group("ftp_list_mlsd_10k");
    g.throughput(Throughput::Bytes(mlsd.len() as u64));
    g.sample_size(10);
    g.bench_function("ftp_proto::list::parse_mlsx", |b| b.iter(|| ours_mlsd(&mlsd)));
    g.bench_function("suppaftp ListParser::parse_mlsd", |b| b.iter(|| peer_mlsd(&mlsd)));
    g.finish();

    let feat = b"211-Features:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n EPRT\r\n EPSV\r\n MDTM\r\n MLST type*;size*;modify*;perm*;unique*;\r\n REST STREAM\r\n SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n";
    let config = ReplyConfig::default();
    let mut g = c.benchmark_group("ftp_reply");
    g.throughput(Throughput::Bytes(feat.len() as u64));
    g.bench_function("Reply::parse FEAT (borrowed, no allocation)", |b| {
        b.iter(|| {
            let (r, n) = Reply::parse(std::hint::black_box(feat), &config)
                .expect("valid")
                .expect("complete");
            r.lines().count() + n
        });
    });
    g.finish();

    report_ratio(
        "ftp_list_unix_10k parse_unix vs suppaftp parse_posix",
        unix.len(),
        31,
        || (),
        |()| ours_unix(&unix),
        |()| peer_unix(&unix),
    );
    report_ratio(
        "ftp_list_mlsd_10k parse_mlsx vs suppaftp parse_mlsd",
        mlsd.len(),
        31,
        || (),
        |()| ours_mlsd(&mlsd),
        |()| peer_mlsd(&mlsd),
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
