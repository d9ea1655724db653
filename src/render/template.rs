//! Label templates: the static parts of a label (rules, frames, fixed captions)
//! drawn once per spec and copied for each label, kept per thread so that no
//! lock is taken on the hot path.

use std::cell::RefCell;
use std::rc::Rc;

use super::font::FastMap;
use super::{Bitmap, LabelSpec};

/// What a template depends on: the fonts (by id), the spec, the QR code's width
/// in modules (which sets the zone heights) and whether there is a sender zone.
pub(crate) type Key = (u64, LabelSpec, u32, bool);

/// Templates kept per thread before the cache is cleared (each is one raster,
/// 120 KB at 100 × 150 mm and 203 dpi).
const LIMIT: usize = 32;

thread_local! {
    /// `None` records that no template can be made for the key.
    static TEMPLATES: RefCell<FastMap<Key, Option<Rc<Bitmap>>>> = RefCell::default();
}

/// This thread's template for `key`, made by `build` on first use. `None` when
/// `build` gave none (the caller draws everything itself).
pub(crate) fn get(key: Key, build: impl FnOnce() -> Option<Bitmap>) -> Option<Rc<Bitmap>> {
    let found = TEMPLATES.with(|t| t.try_borrow().ok()?.get(&key).cloned());
    if let Some(template) = found {
        return template;
    }
    let template = build().map(Rc::new);
    TEMPLATES.with(|t| {
        if let Ok(mut t) = t.try_borrow_mut() {
            if t.len() >= LIMIT {
                t.clear();
            }
            t.insert(key, template.clone());
        }
    });
    template
}
