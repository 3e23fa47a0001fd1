//! Times `brine::dumps` against CPython's `pickle.dumps` on the pyperformance pickle data
//! (DICT, TUPLE, LIST, MICRO_DICT at protocol 5), after checking the bytes are identical.
//!
//! `cargo run --release --example bench_dumps`

use std::process::Command;
use std::time::Instant;

use brine::value::{Graph, NodeId, Object, ObjectKind};
use brine::DumpOptions;

const PY_DATA: &str = r#"
import datetime, pickle, sys, timeit
DICT = {
    'ads_flags': 0, 'age': 18, 'birthday': datetime.date(1980, 5, 7), 'bulletin_count': 0,
    'comment_count': 0, 'country': 'BR', 'encrypted_id': 'G9urXXAJwjE', 'favorite_count': 9,
    'first_name': '', 'flags': 412317970704, 'friend_count': 0, 'gender': 'm',
    'gender_for_display': 'Male', 'id': 302935349, 'is_custom_profile_icon': 0, 'last_name': '',
    'locale_preference': 'pt_BR', 'member': 0, 'tags': ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    'profile_foo_id': 827119638, 'secure_encrypted_id': 'Z_xxx2dYx3t4YAdnmfgyKw',
    'session_number': 2, 'signup_id': '201-19225-223', 'status': 'A', 'theme': 1,
    'time_created': 1225237014, 'time_updated': 1233134493, 'unread_message_count': 0,
    'user_group': '0', 'username': 'collinwinter', 'play_count': 9, 'view_count': 7, 'zip': ''}
TUPLE = ([265867233, 265868503, 265252341, 265243910, 265879514, 266219766, 266021701,
          265843726, 265592821, 265246784, 265853180, 45526486, 265463699, 265848143,
          265863062, 265392591, 265877490, 265823665, 265828884, 265753032], 60)
LIST = [[list(range(10)), list(range(10))] for _ in range(10)]
MICRO_DICT = dict((key, dict.fromkeys(range(10))) for key in range(100))
"#;

fn dict(g: &mut Graph) -> NodeId {
    let items: &[(&str, &str)] = &[
        ("ads_flags", "0"),
        ("age", "18"),
        ("birthday", "date"),
        ("bulletin_count", "0"),
        ("comment_count", "0"),
        ("country", "'BR"),
        ("encrypted_id", "'G9urXXAJwjE"),
        ("favorite_count", "9"),
        ("first_name", "'"),
        ("flags", "412317970704"),
        ("friend_count", "0"),
        ("gender", "'m"),
        ("gender_for_display", "'Male"),
        ("id", "302935349"),
        ("is_custom_profile_icon", "0"),
        ("last_name", "'"),
        ("locale_preference", "'pt_BR"),
        ("member", "0"),
        ("tags", "tags"),
        ("profile_foo_id", "827119638"),
        ("secure_encrypted_id", "'Z_xxx2dYx3t4YAdnmfgyKw"),
        ("session_number", "2"),
        ("signup_id", "'201-19225-223"),
        ("status", "'A"),
        ("theme", "1"),
        ("time_created", "1225237014"),
        ("time_updated", "1233134493"),
        ("unread_message_count", "0"),
        ("user_group", "'0"),
        ("username", "'collinwinter"),
        ("play_count", "9"),
        ("view_count", "7"),
        ("zip", "'"),
    ];
    let mut pairs = Vec::new();
    for &(k, v) in items {
        let k = g.str(k);
        let v = if let Some(s) = v.strip_prefix('\'') {
            g.str(s)
        } else if v == "date" {
            let cls = g.global("datetime", "date");
            let b = g.bytes(b"\x07\xbc\x05\x07");
            let args = g.tuple(vec![b]);
            g.object(Object::new(ObjectKind::Reduce, cls, args))
        } else if v == "tags" {
            let t = ["a", "b", "c", "d", "e", "f", "g"]
                .map(|s| g.str(s))
                .to_vec();
            g.list(t)
        } else {
            g.int(v.parse().unwrap())
        };
        pairs.push((k, v));
    }
    g.dict(pairs)
}

fn tuple(g: &mut Graph) -> NodeId {
    let v = [
        265867233, 265868503, 265252341, 265243910, 265879514, 266219766, 266021701, 265843726,
        265592821, 265246784, 265853180, 45526486, 265463699, 265848143, 265863062, 265392591,
        265877490, 265823665, 265828884, 265753032,
    ]
    .map(|i| g.int(i))
    .to_vec();
    let l = g.list(v);
    let sixty = g.int(60);
    g.tuple(vec![l, sixty])
}

fn list(g: &mut Graph) -> NodeId {
    let outer = (0..10)
        .map(|_| {
            let a = (0..10).map(|i| g.int(i)).collect();
            let a = g.list(a);
            let b = (0..10).map(|i| g.int(i)).collect();
            let b = g.list(b);
            g.list(vec![a, b])
        })
        .collect();
    g.list(outer)
}

fn micro_dict(g: &mut Graph) -> NodeId {
    let outer = (0..100)
        .map(|k| {
            let key = g.int(k);
            let inner = (0..10)
                .map(|i| {
                    let k = g.int(i);
                    (k, g.none())
                })
                .collect();
            (key, g.dict(inner))
        })
        .collect();
    g.dict(outer)
}

type Builder = fn(&mut Graph) -> NodeId;

fn main() {
    let cases: [(&str, Builder); 4] = [
        ("DICT", dict),
        ("TUPLE", tuple),
        ("LIST", list),
        ("MICRO_DICT", micro_dict),
    ];
    for (name, build) in cases {
        let mut g = Graph::new();
        let root = build(&mut g);
        g.set_root(root);
        let opts = || DumpOptions::new().protocol(5);
        let ours = brine::dumps_with(&g, opts()).unwrap();
        let py = format!(
            "{PY_DATA}\nsys.stdout.write(pickle.dumps({name}, 5).hex())\nn = 20000\nt = min(timeit.repeat(lambda: pickle.dumps({name}, 5), number=n, repeat=5))\nsys.stdout.write(' %f' % (t / n * 1e6))"
        );
        let out = Command::new("python3").arg("-c").arg(py).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let (hex, us) = text.split_once(' ').unwrap();
        let theirs: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let py_us: f64 = us.parse().unwrap();
        let n = 20000;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(brine::dumps_with(&g, opts()).unwrap());
            }
            best = best.min(t.elapsed().as_secs_f64() / n as f64 * 1e6);
        }
        println!(
            "{name:>10}: identical={} {} bytes  brine {best:.2} µs  CPython {py_us:.2} µs  ratio {:.1}x",
            ours == theirs,
            ours.len(),
            py_us / best
        );
    }
}
