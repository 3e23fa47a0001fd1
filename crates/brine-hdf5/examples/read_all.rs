//! Reads every object, attribute and dataset of an HDF5 file and prints one line per object:
//! a smoke check for odd files (`cargo run -p brine-hdf5 --example read_all -- FILE`).

use brine_hdf5::{File, ObjectKind};

fn main() -> Result<(), brine_hdf5::Error> {
    let path = std::env::args().nth(1).unwrap_or_default();
    let f = File::open(&path)?;
    for e in f.walk()? {
        let attrs = f.attrs(&e.path).map(|a| a.len());
        match e.kind {
            ObjectKind::Group => println!("{} group attrs={attrs:?}", e.path),
            ObjectKind::Dataset => {
                let data = f.read(&e.path).map(|a| a.len());
                println!("{} dataset attrs={attrs:?} elements={data:?}", e.path);
            }
        }
    }
    Ok(())
}
