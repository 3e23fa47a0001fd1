//! `bench_typed` with mimalloc as the global allocator, for `bench/compare.py`: the same
//! timings when small allocations cost what CPython's own small-object allocator makes them
//! cost (typed decode into owned Rust values is mostly `String` / `Vec` / map allocations).
//!
//! Usage: `cargo run --release -p brine --example bench_typed_mimalloc -- FILE...`

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "bench_typed.rs"]
mod bench_typed;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    bench_typed::run("mimalloc")
}
