//! A courier scans a label's QR code and the carrier's resolver discloses the
//! recipient's data, within the courier's grant: its zones, its scope, its quota,
//! and every attempt in the audit log.
//!
//! ```sh
//! cargo run --example courier_resolve
//! ```

use std::sync::Arc;

use time::{Duration, OffsetDateTime};
use waybill_redact::{
    verify_audit_log, DeviceKey, GrantSpec, IssuerKey, KeyRing, MemorySink, Purpose,
    ResolveRequest, Resolver, Validity, Waybill,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let waybill = Waybill::from_json(
        r#"{ "tracking_number": "YT7412589630147", "zone": 571003,
             "recipient": { "name": "欧阳娜娜", "phone": "+86 139 1234 5678",
                            "address": "浙江省杭州市西湖区文三路478号华星时代广场A座1203室" } }"#,
    )?;
    let now = OffsetDateTime::now_utc();

    // Carrier HQ: the key ring seals labels; the issuer key signs courier grants.
    let ring = KeyRing::generate();
    let issuer = IssuerKey::generate();
    let token = ring.seal(&waybill, &Validity::new(now, Duration::days(30))?)?;
    println!("scanned token: {}…", &token.as_str()[..32]);

    // The courier's phone makes its own key and shows the issuer only the public
    // half. A grant for one shift in the parcel's zone, delivery fields only, bound
    // to that phone.
    let phone = DeviceKey::generate()?;
    let grant = issuer.issue(
        &GrantSpec::new(
            "C-10023",
            vec![571003, 571004],
            now - Duration::minutes(5),
            now + Duration::hours(12),
            200,
        )
        .with_device(Some(phone.public_key())),
    )?;

    // The resolver the carrier runs; the phone signs each request.
    let audit = Arc::new(MemorySink::new());
    let resolver = Resolver::new(ring, vec![issuer.public_key()], audit.clone());
    let time = u64::try_from(OffsetDateTime::now_utc().unix_timestamp())?;
    let proof = phone.prove(grant.id(), Purpose::Delivery, &[token.as_str()], time)?;
    let request = ResolveRequest::new(Purpose::Delivery).with_proof(proof);
    let disclosure = resolver.resolve(token.as_str(), grant.as_str(), &request)?;
    println!(
        "disclosed to C-10023: {} {} {}",
        disclosure.name.as_deref().unwrap_or("-"),
        disclosure.phone.as_deref().unwrap_or("-"),
        disclosure.address.as_deref().unwrap_or("-"),
    );

    // The grant's text alone, without the phone's signature, resolves nothing.
    let bare = ResolveRequest::new(Purpose::Delivery);
    match resolver.resolve(token.as_str(), grant.as_str(), &bare) {
        Ok(_) => return Err("a grant without its device's signature must be denied".into()),
        Err(denied) => println!("grant text alone denied: {denied}"),
    }

    // A courier from another zone is denied, and that is audited too.
    let other_phone = DeviceKey::generate()?;
    let other = issuer.issue(
        &GrantSpec::new(
            "C-20001",
            vec![755021],
            now - Duration::minutes(5),
            now + Duration::hours(12),
            200,
        )
        .with_device(Some(other_phone.public_key())),
    )?;
    let proof = other_phone.prove(other.id(), Purpose::Delivery, &[token.as_str()], time)?;
    let request = ResolveRequest::new(Purpose::Delivery).with_proof(proof);
    match resolver.resolve(token.as_str(), other.as_str(), &request) {
        Ok(_) => return Err("a grant for another zone must be denied".into()),
        Err(denied) => println!("C-20001 denied: {denied}"),
    }

    let log = audit.lines().join("\n") + "\n";
    let records = verify_audit_log(log.as_bytes())?;
    println!("audit log: {records} records, hash chain intact");
    Ok(())
}
