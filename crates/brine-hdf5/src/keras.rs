//! Keras `.h5` models (`model.save('m.h5')`, `model.save_weights('w.h5')`): configuration,
//! layers and their weights, read without running anything.
//!
//! The layout Keras writes: root attributes `keras_version`, `backend`, `model_config` and
//! `training_config` (JSON text); group `model_weights` (the root for weights-only files) with
//! attribute `layer_names`; one group per layer with attribute `weight_names`, each name a path
//! below the layer's group (`dense/kernel:0` in Keras 2, `sequential/dense/kernel` in Keras 3);
//! group `optimizer_weights` likewise.
//!
//! ```
//! use brine_hdf5::{keras, File};
//! # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keras_model.h5");
//! let file = File::open(&path)?;
//! let model = keras::Model::load(&file)?;
//! assert_eq!(model.layers[0].name, "dense");
//! let kernel = &model.layers[0].weights[0];
//! assert_eq!(kernel.shape, [4, 3]);
//! let values = file.read(&kernel.path)?;
//! assert_eq!(values.len(), 12);
//! let config = model.model_config.as_ref().expect("a full model");
//! assert_eq!(config["class_name"], "Sequential");
//! # Ok::<(), brine_hdf5::Error>(())
//! ```

use serde_json::Value;

use crate::array::{Array, DType};
use crate::error::{Error, Result};
use crate::file::{File, ObjectKind};

/// One weight of a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Weight {
    /// The name Keras recorded (`dense/kernel:0`, `sequential/dense/kernel`).
    pub name: String,
    /// The dataset's absolute path in the file.
    pub path: String,
    /// The weight's shape.
    pub shape: Vec<usize>,
    /// The weight's dtype, if brine reads it.
    pub dtype: Option<DType>,
}

/// One layer and its weights, in the order Keras saved them.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// The layer's name.
    pub name: String,
    /// Its weights (none for layers without any, such as activations).
    pub weights: Vec<Weight>,
}

/// What a Keras `.h5` file describes.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// `keras_version`, if recorded.
    pub keras_version: Option<String>,
    /// `backend` (`tensorflow`, `torch`, `jax`), if recorded.
    pub backend: Option<String>,
    /// The parsed `model_config` JSON (absent in weights-only files).
    pub model_config: Option<Value>,
    /// The parsed `training_config` JSON (present once the model was compiled).
    pub training_config: Option<Value>,
    /// The layers, in `layer_names` order.
    pub layers: Vec<Layer>,
    /// The optimizer's weights, if saved.
    pub optimizer_weights: Vec<Weight>,
}

fn join(group: &str, name: &str) -> String {
    let g = group.trim_end_matches('/');
    format!("{g}/{}", name.trim_start_matches('/'))
}

/// A string attribute, if present; fails only if it exists and is not text.
fn text_attr(file: &File, path: &str, name: &str) -> Result<Option<String>> {
    if !file.attr_names(path)?.iter().any(|n| n == name) {
        return Ok(None);
    }
    let v = file.attr(path, name)?.to_strings()?;
    Ok(v.into_iter().next())
}

/// The names a `layer_names` / `weight_names` attribute lists; Keras writes an empty float
/// array when there are none.
///
/// Keras splits a list too long for one object header into `name0`, `name1`, ...; those are
/// joined back in order.
fn names_attr(file: &File, path: &str, name: &str) -> Result<Option<Vec<String>>> {
    let present = file.attr_names(path)?;
    let strings = |a: Array| -> Result<Vec<String>> {
        if a.is_empty() {
            Ok(Vec::new())
        } else {
            a.to_strings()
        }
    };
    if present.iter().any(|n| n == name) {
        return strings(file.attr(path, name)?).map(Some);
    }
    let mut out: Option<Vec<String>> = None;
    // At most one part per attribute present, so a hostile file cannot make this loop long.
    for i in 0..present.len() {
        let part = format!("{name}{i}");
        if !present.contains(&part) {
            break;
        }
        out.get_or_insert_with(Vec::new)
            .extend(strings(file.attr(path, &part)?)?);
    }
    Ok(out)
}

fn json_attr(file: &File, name: &str) -> Result<Option<Value>> {
    match text_attr(file, "/", name)? {
        None => Ok(None),
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::data(format!("attribute {name} is not JSON: {e}"))),
    }
}

fn weights(file: &File, group: &str, names: &[String]) -> Result<Vec<Weight>> {
    names
        .iter()
        .map(|n| {
            let path = join(group, n);
            let info = file.dataset(&path)?;
            Ok(Weight {
                name: n.clone(),
                path,
                shape: info.shape,
                dtype: info.dtype,
            })
        })
        .collect()
}

impl Model {
    /// Reads the model's description from `file` (the weights stay in the file: read them with
    /// [`File::read`] at [`Weight::path`]).
    pub fn load(file: &File) -> Result<Model> {
        let root = match file.kind("/model_weights")? {
            Some(ObjectKind::Group) => "/model_weights",
            _ => "/",
        };
        let layer_names = names_attr(file, root, "layer_names")?
            .ok_or_else(|| Error::data("not a Keras file: no layer_names attribute".to_string()))?;
        let mut layers = Vec::with_capacity(layer_names.len().min(1 << 16));
        for name in layer_names {
            let group = join(root, &name);
            let names = names_attr(file, &group, "weight_names")?.unwrap_or_default();
            layers.push(Layer {
                weights: weights(file, &group, &names)?,
                name,
            });
        }
        let optimizer_weights = match file.kind("/optimizer_weights")? {
            Some(ObjectKind::Group) => {
                let names =
                    names_attr(file, "/optimizer_weights", "weight_names")?.unwrap_or_default();
                weights(file, "/optimizer_weights", &names)?
            }
            _ => Vec::new(),
        };
        let version = match text_attr(file, "/", "keras_version")? {
            Some(v) => Some(v),
            None => text_attr(file, root, "keras_version")?,
        };
        let backend = match text_attr(file, "/", "backend")? {
            Some(v) => Some(v),
            None => text_attr(file, root, "backend")?,
        };
        Ok(Model {
            keras_version: version,
            backend,
            model_config: json_attr(file, "model_config")?,
            training_config: json_attr(file, "training_config")?,
            layers,
            optimizer_weights,
        })
    }
}
