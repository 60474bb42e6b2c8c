//! Native command line for the Fine-Tune Lab core: converts the shipped
//! datasets and trains with exactly the code the browser runs, printing JSON
//! lines so results can be compared and scripted.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
