//! The Python binding of waybill-redact: a thin skin over the library, built by
//! maturin into the `waybill_redact._native` extension module (abi3, CPython 3.9
//! or later). The `waybill_redact` package re-exports it.
//!
//! One file per group of functions: records and `read_batch` (`record`),
//! masking (`masking`), sealers (`sealing`), rendering (`rendering`),
//! `render_batch` (`batch`); errors become Python exceptions in `errors` only.

mod batch;
mod errors;
mod masking;
mod record;
mod rendering;
mod sealing;

use pyo3::prelude::*;

/// Privacy express waybills: masking, sealed QR tokens and thermal-ready labels.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<record::Record>()?;
    m.add_class::<record::BatchReader>()?;
    m.add_function(wrap_pyfunction!(record::read_batch, m)?)?;
    m.add_class::<masking::PartyPolicy>()?;
    m.add_class::<masking::MaskPolicy>()?;
    m.add_class::<masking::DangerousMaskPolicy>()?;
    m.add_function(wrap_pyfunction!(masking::mask, m)?)?;
    m.add_function(wrap_pyfunction!(masking::mask_json, m)?)?;
    m.add_class::<sealing::Ring>()?;
    m.add_class::<sealing::Directory>()?;
    m.add_class::<sealing::SealerKey>()?;
    m.add_class::<sealing::Sealer>()?;
    m.add_function(wrap_pyfunction!(sealing::token_header, m)?)?;
    m.add_class::<rendering::Fonts>()?;
    m.add_class::<rendering::Label>()?;
    m.add_function(wrap_pyfunction!(rendering::render, m)?)?;
    m.add_function(wrap_pyfunction!(rendering::render_label, m)?)?;
    m.add_function(wrap_pyfunction!(rendering::write_pdf, m)?)?;
    m.add_class::<batch::BatchRenderer>()?;
    m.add_function(wrap_pyfunction!(batch::render_batch, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
