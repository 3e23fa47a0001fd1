//! Keras `.h5` models: the real Keras 3 file and the hand-made tf.keras 2 layout, read through
//! `brine_hdf5::keras` and compared with what h5py saw.

mod common;

use brine_hdf5::{keras::Model, DType, File};
use common::{data_dir, expected, value_json};

#[test]
fn keras3_model() {
    let file = File::open(data_dir().join("keras_model.h5")).unwrap();
    let model = Model::load(&file).unwrap();
    assert_eq!(model.backend.as_deref(), Some("torch"));
    assert!(model.keras_version.as_deref().unwrap().starts_with('3'));
    let config = model.model_config.as_ref().unwrap();
    assert_eq!(config["class_name"], "Sequential");
    assert_eq!(config["config"]["layers"][1]["config"]["units"], 3);
    assert_eq!(model.training_config.as_ref().unwrap()["loss"], "mse");
    let names: Vec<&str> = model.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["dense", "out"]);
    let shapes: Vec<Vec<usize>> = model
        .layers
        .iter()
        .flat_map(|l| l.weights.iter().map(|w| w.shape.clone()))
        .collect();
    assert_eq!(shapes, [vec![4, 3], vec![3], vec![3, 2], vec![2]]);
    assert_eq!(
        model.layers[0].weights[0].path,
        "/model_weights/dense/sequential/dense/kernel"
    );
    let want = expected("keras_model");
    for w in model.layers.iter().flat_map(|l| &l.weights) {
        assert_eq!(w.dtype, Some(DType::F32));
        let got = value_json(&file.read(&w.path).unwrap());
        assert_eq!(got, want["objects"][&w.path]["value"], "{}", w.path);
    }
    let opt: Vec<&str> = model
        .optimizer_weights
        .iter()
        .map(|w| w.name.as_str())
        .collect();
    assert_eq!(opt, ["adam/iteration", "adam/learning_rate"]);
}

#[test]
fn keras2_layout() {
    let file = File::open(data_dir().join("keras2_layout.h5")).unwrap();
    let model = Model::load(&file).unwrap();
    assert_eq!(model.keras_version.as_deref(), Some("2.15.0"));
    assert_eq!(model.backend.as_deref(), Some("tensorflow"));
    assert_eq!(model.layers.len(), 2);
    assert_eq!(model.layers[0].weights[0].name, "d1/kernel:0");
    assert_eq!(
        model.layers[0].weights[0].path,
        "/model_weights/d1/d1/kernel:0"
    );
    assert!(model.layers[1].weights.is_empty());
    assert_eq!(
        model.model_config.unwrap()["config"]["layers"][2]["config"]["rate"],
        0.5
    );
    let want = expected("keras2_layout");
    let kernel = file.read("/model_weights/d1/d1/kernel:0").unwrap();
    assert_eq!(
        value_json(&kernel),
        want["objects"]["/model_weights/d1/d1/kernel:0"]["value"]
    );
}

#[test]
fn not_keras() {
    let file = File::open(data_dir().join("h5py_default.h5")).unwrap();
    let err = Model::load(&file).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not a Keras file: no layer_names attribute"
    );
}

#[test]
fn split_name_lists() {
    // Keras writes `layer_names0`, `layer_names1`, ... when one attribute would not fit.
    use brine_hdf5::{Array, DatasetOptions};
    let path = common::scratch("split.h5");
    let mut f = File::create(&path).unwrap();
    f.set_attr("/", "layer_names0", Array::from_strs(&["a", "b"]))
        .unwrap();
    f.set_attr("/", "layer_names1", Array::from_strs(&["c"]))
        .unwrap();
    for layer in ["a", "b"] {
        f.require_group(layer).unwrap();
        f.set_attr(layer, "weight_names", Array::from_f64(&[]))
            .unwrap();
    }
    f.create_dataset("c/w", Array::from_f32(&[1.0]), DatasetOptions::new())
        .unwrap();
    f.set_attr("c", "weight_names0", Array::from_strs(&["w"]))
        .unwrap();
    f.close().unwrap();
    let model = Model::load(&File::open(&path).unwrap()).unwrap();
    let names: Vec<&str> = model.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert!(model.layers[0].weights.is_empty());
    assert_eq!(model.layers[2].weights[0].path, "/c/w");
    assert_eq!(model.layers[2].weights[0].shape, [1]);
    assert!(model.model_config.is_none());
}
