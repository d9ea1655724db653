//! Zone directory files, sealer registries and sealer keys: reading arbitrary
//! text never panics, and nothing random verifies against the carrier's key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;
use waybill_redact::{IssuerKey, SealerKey, SealerRegistry, ZoneDirectory};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let carrier = IssuerKey::from_secret([3; 32]).public_key();
    let now = OffsetDateTime::from_unix_timestamp(1_795_831_200).expect("time");
    if let Ok(dir) = ZoneDirectory::from_json(text, &carrier, now) {
        // Only a directory the carrier signed verifies; the fuzzer cannot forge one,
        // so reaching here means the input embeds a real signature. Re-reading its
        // own output must give the same directory.
        assert_eq!(ZoneDirectory::from_json(&dir.to_json(), &carrier, now), Ok(dir));
    }
    if let Ok(reg) = SealerRegistry::from_json(text) {
        assert!(SealerRegistry::from_json(&reg.to_json()).is_ok());
    }
    let _ = SealerKey::from_json(text);
});
