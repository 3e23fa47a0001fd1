//! `show::repr`: numpy arrays of every dtype as summaries, pandas DataFrames and Series as
//! their columns, scikit-learn estimators as their fields; the expected summaries are made by
//! the generator from numpy's own values (`summary` in `gen_fixtures.py`).

mod ml_common;

use brine::show::ShowOptions;
use brine_formats::{joblib, show};
use ml_common::{expected, fixture};
use serde_json::Value;

fn shown(file: &str) -> String {
    let g = joblib::load(&fixture(&format!("show/{file}")), &brine::Limits::default())
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    show::repr(&g, g.root().unwrap(), &ShowOptions::default())
}

fn exp() -> Value {
    expected()["show"].clone()
}

#[test]
fn numpy_arrays_of_every_dtype() {
    let e = exp();
    let zoo = e["zoo"].as_object().unwrap();
    assert!(zoo.len() >= 20);
    for p in [2, 4, 5] {
        let s = shown(&format!("zoo_p{p}.pkl"));
        for (k, v) in zoo {
            let want = format!("'{k}': {}", v.as_str().unwrap());
            assert!(s.contains(&want), "zoo_p{p}: {want}\nin {s}");
        }
        assert!(
            !s.contains("_reconstruct") && !s.contains("_frombuffer"),
            "{s}"
        );
    }
}

#[test]
fn dataframes_by_column() {
    let e = exp();
    let df = &e["df"];
    let cols: Vec<&str> = df["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let idx = df["index"].as_array().unwrap();
    for p in [2, 4, 5] {
        let s = shown(&format!("df_p{p}.pkl"));
        assert!(s.starts_with("pandas.DataFrame({'i': "), "df_p{p}: {s}");
        // Columns in order, each once.
        let mut at = 0;
        for c in &cols {
            let key = format!("'{c}': ");
            let pos = s[at..]
                .find(&key)
                .unwrap_or_else(|| panic!("df_p{p}: column {c} in {s}"));
            at += pos + key.len();
        }
        for (c, v) in df["numpy_columns"].as_object().unwrap() {
            if let Some(v) = v.as_str() {
                assert!(
                    s.contains(&format!("'{c}': {v}")),
                    "df_p{p}: {c} = {v}\nin {s}"
                );
            }
        }
        assert!(s.contains("StringArray(array(shape=(3,), dtype=object, ['a', 'b', 'c'])"));
        assert!(s.contains(&format!(
            "RangeIndex(name=None, start={}, stop={}, step={})",
            idx[0], idx[1], idx[2]
        )));
        assert!(
            !s.contains("BlockManager") && !s.contains("_unpickle_block"),
            "{s}"
        );
    }
}

#[test]
fn series() {
    let e = exp();
    let se = &e["series"];
    let s = shown("series_p4.pkl");
    let want = format!(
        "pandas.Series({}, index=pandas.Index(data={}, name=None), name='{}')",
        se["values"].as_str().unwrap(),
        se["index"].as_str().unwrap(),
        se["name"].as_str().unwrap()
    );
    assert_eq!(s, want);
}

#[test]
fn sklearn_estimators_pickled_and_through_joblib() {
    let e = exp();
    for (name, est) in e["sklearn"].as_object().unwrap() {
        for file in [format!("{name}_p4.pkl"), format!("{name}.joblib")] {
            let s = shown(&file);
            let class = est["class"].as_str().unwrap();
            assert!(s.starts_with(&format!("{class}(")), "{file}: {s}");
            for (field, want) in est["fields"].as_object().unwrap() {
                let want = want.as_str().unwrap();
                assert!(s.contains(want), "{file}: {field}: {want}\nin {s}");
            }
            assert!(!s.contains("NumpyArrayWrapper") && !s.contains("_reconstruct"));
        }
    }
}

#[test]
fn item_count_follows_max_items() {
    let g = joblib::load(&fixture("show/zoo_p4.pkl"), &brine::Limits::default()).unwrap();
    let opts = ShowOptions {
        max_items: Some(2),
        ..ShowOptions::default()
    };
    let s = show::repr(&g, g.root().unwrap(), &opts);
    assert!(
        s.starts_with("{'b1': array(shape=(4,), dtype=bool, [True, False, ...]), "),
        "{s}"
    );
}

#[test]
fn hostile_arrays_print_without_panicking() {
    // Every prefix and a few byte flips of a pickle of the zoo: errors or some text, never a
    // panic, and never more than the output cap.
    let data = std::fs::read(fixture("show/zoo_p2.pkl")).unwrap();
    let opts = ShowOptions {
        max_output: 1 << 16,
        ..ShowOptions::default()
    };
    for i in (0..data.len()).step_by(13) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut d = data.clone();
            d[i] ^= flip;
            if let Ok(g) = joblib::loads(&d, &brine::Limits::default()) {
                if let Some(root) = g.root() {
                    let s = show::repr(&g, root, &opts);
                    assert!(s.len() <= (1 << 16) + 4096);
                }
            }
        }
    }
}
