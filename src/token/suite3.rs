//! Suite 3's cipher (generation 3, `WB3:`): a seller's token whose sealer id is
//! hidden from everyone but the zone key's holder, and whose seller is still
//! authenticated before anything is disclosed. Composed, without new primitives,
//! from HPKE Base mode (RFC 9180, through the `hpke` crate), X25519
//! (`x25519-dalek`), HKDF-SHA256 and ChaCha20-Poly1305 (RustCrypto):
//!
//! ```text
//! enc, ctx     = SetupBaseS(pkZ, info = "waybill-redact token v3")
//! id_mask      = ctx.Export("waybill-redact v3 sealer id", 4)
//! encrypted_id = sealer_id XOR id_mask
//! s_e          = ctx.Export("waybill-redact v3 payload salt", 32)
//! K_ss         = X25519(skS, pkZ)          (= X25519(skZ, pkS); all-zero refused)
//! key          = HKDF-SHA256(salt = s_e, IKM = K_ss,
//!                            info = "waybill-redact v3 payload key" || pkS || pkZ || enc, L = 32)
//! ct, tag      = ChaCha20-Poly1305(key, nonce = 12 zero bytes,
//!                                  aad = "waybill-redact token v3" || header || enc || encrypted_id,
//!                                  padded plaintext)
//! ```
//!
//! `docs/TOKEN.md` ("Suite 3") gives the security argument.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit, Nonce, Tag};
use hkdf::Hkdf;
use hpke::aead::ChaCha20Poly1305 as HpkeChaCha;
use hpke::kdf::HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::error::{SealError, TokenError};
use super::sealers::SealerId;
use super::suite2::{Kem, KemPublic, KemSecret, SeedRng};

/// HPKE `info`, and the domain string that starts the AEAD's associated data.
pub(crate) const INFO: &[u8] = b"waybill-redact token v3";
/// Exporter context of the 4-byte mask over the sealer id.
pub(crate) const EXPORT_ID: &[u8] = b"waybill-redact v3 sealer id";
/// Exporter context of the 32-byte HKDF salt of the payload key.
pub(crate) const EXPORT_SALT: &[u8] = b"waybill-redact v3 payload salt";
/// HKDF `info` prefix of the payload key; `pkS ‖ pkZ ‖ enc` follow.
pub(crate) const KEY_INFO: &[u8] = b"waybill-redact v3 payload key";
/// The encrypted sealer id's length.
pub(crate) const ID_LEN: usize = 4;
/// The encapsulated key's length.
pub(crate) const ENC_LEN: usize = 32;

type Encapped = <Kem as hpke::Kem>::EncappedKey;

/// What the sender and the receiver both derive from the HPKE Base-mode context.
pub(crate) struct Exported {
    pub(crate) id_mask: [u8; ID_LEN],
    pub(crate) salt: Zeroizing<[u8; 32]>,
}

fn export(
    ctx_export: impl Fn(&[u8], &mut [u8]) -> Result<(), hpke::HpkeError>,
) -> Option<Exported> {
    let mut id_mask = [0u8; ID_LEN];
    let mut salt = Zeroizing::new([0u8; 32]);
    ctx_export(EXPORT_ID, &mut id_mask).ok()?;
    ctx_export(EXPORT_SALT, salt.as_mut_slice()).ok()?;
    Some(Exported { id_mask, salt })
}

/// The static-static X25519 secret between a sealer and a zone; `None` when it
/// is all zero (a small-order public key).
pub(crate) fn static_secret(secret: &KemSecret, public: &KemPublic) -> Option<Zeroizing<[u8; 32]>> {
    let mut sk = Zeroizing::new([0u8; 32]);
    sk.copy_from_slice(&secret.to_bytes());
    let mut pk = [0u8; 32];
    pk.copy_from_slice(&public.to_bytes());
    let shared = StaticSecret::from(*sk).diffie_hellman(&PublicKey::from(pk));
    shared
        .was_contributory()
        .then(|| Zeroizing::new(*shared.as_bytes()))
}

/// The payload key: HKDF-SHA256(salt = s_e, IKM = K_ss, info = KEY_INFO ‖ pkS ‖ pkZ ‖ enc).
pub(crate) fn payload_key(
    salt: &[u8; 32],
    k_ss: &[u8; 32],
    sealer: &[u8; 32],
    zone: &[u8; 32],
    enc: &[u8; ENC_LEN],
) -> Zeroizing<[u8; 32]> {
    let mut info = [0u8; KEY_INFO.len() + 96];
    let (label, rest) = info.split_at_mut(KEY_INFO.len());
    label.copy_from_slice(KEY_INFO);
    for (to, from) in rest.chunks_mut(32).zip([sealer, zone, enc]) {
        to.copy_from_slice(from);
    }
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's limit: expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), k_ss).expand(&info, key.as_mut_slice());
    key
}

/// `INFO ‖ header ‖ enc ‖ encrypted_id`.
pub(crate) fn associated_data(header: &[u8], enc: &[u8], encrypted_id: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(INFO.len() + header.len() + ENC_LEN + ID_LEN);
    for part in [INFO, header, enc, encrypted_id] {
        aad.extend_from_slice(part);
    }
    aad
}

/// A sealed suite-3 body: encapsulated key, encrypted sealer id and tag (the
/// plaintext was encrypted in place).
pub(crate) struct Sealed {
    pub(crate) enc: [u8; ENC_LEN],
    pub(crate) encrypted_id: [u8; ID_LEN],
    pub(crate) tag: [u8; 16],
}

/// Seals `buf` in place to the zone key `zone` as the sealer `(skS, pkS)` with id
/// `id`; `header` is the token's clear header. The ephemeral key pair is
/// `DeriveKeyPair(ephemeral_seed)`.
pub(crate) fn seal(
    zone: &KemPublic,
    sender: (&KemSecret, &KemPublic),
    id: SealerId,
    header: &[u8],
    buf: &mut [u8],
    ephemeral_seed: Zeroizing<[u8; 32]>,
) -> Result<Sealed, TokenError> {
    let fail = TokenError::Seal(SealError::Encrypt);
    let (enc, ctx) = hpke::setup_sender_with_rng::<HpkeChaCha, HkdfSha256, Kem>(
        &OpModeS::Base,
        zone,
        INFO,
        &mut SeedRng(ephemeral_seed),
    )
    .map_err(|_| fail.clone())?;
    let ex = export(|c, o| ctx.export(c, o)).ok_or(fail.clone())?;
    let mut enc_bytes = [0u8; ENC_LEN];
    enc_bytes.copy_from_slice(&enc.to_bytes());
    let mut encrypted_id = *id.as_bytes();
    for (b, m) in encrypted_id.iter_mut().zip(ex.id_mask) {
        *b ^= m;
    }
    let k_ss = static_secret(sender.0, zone).ok_or(fail.clone())?;
    let key = payload_key(
        &ex.salt,
        &k_ss,
        &bytes32(sender.1),
        &bytes32(zone),
        &enc_bytes,
    );
    let aad = associated_data(header, &enc_bytes, &encrypted_id);
    let tag = ChaCha20Poly1305::new(&(*key).into())
        .encrypt_inout_detached(&Nonce::default(), &aad, buf.into())
        .map_err(|_| fail)?;
    Ok(Sealed {
        enc: enc_bytes,
        encrypted_id,
        tag: tag.into(),
    })
}

/// The receiver's first step: the sealer id the token claims, and the salt
/// the payload key needs. Costs one X25519 operation (HPKE Base-mode decap).
pub(crate) struct Unmasked {
    pub(crate) sealer: SealerId,
    salt: Zeroizing<[u8; 32]>,
}

/// Decapsulates with the zone secret key and unmasks the sealer id. Every
/// failure is [`TokenError::Open`].
pub(crate) fn unmask(
    zone: &KemSecret,
    enc: &[u8],
    encrypted_id: &[u8],
) -> Result<Unmasked, TokenError> {
    let enc = Encapped::from_bytes(enc).map_err(|_| TokenError::Open)?;
    let ctx = hpke::setup_receiver::<HpkeChaCha, HkdfSha256, Kem>(&OpModeR::Base, zone, &enc, INFO)
        .map_err(|_| TokenError::Open)?;
    let ex = export(|c, o| ctx.export(c, o)).ok_or(TokenError::Open)?;
    let mut id = [0u8; ID_LEN];
    for ((i, e), m) in id.iter_mut().zip(encrypted_id).zip(ex.id_mask) {
        *i = e ^ m;
    }
    Ok(Unmasked {
        sealer: SealerId::from_bytes(id),
        salt: ex.salt,
    })
}

/// The receiver's second step, once the sealer's public key `pkS` is known
/// (and trusted): decrypts `buf` in place. `k_ss` is `X25519(skZ, pkS)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn open(
    unmasked: &Unmasked,
    k_ss: &[u8; 32],
    sealer: &[u8; 32],
    zone: &[u8; 32],
    header: &[u8],
    enc: &[u8],
    encrypted_id: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> Result<(), TokenError> {
    let enc_arr = <[u8; ENC_LEN]>::try_from(enc).map_err(|_| TokenError::Open)?;
    let tag = <[u8; 16]>::try_from(tag).map_err(|_| TokenError::Open)?;
    let key = payload_key(&unmasked.salt, k_ss, sealer, zone, &enc_arr);
    let aad = associated_data(header, enc, encrypted_id);
    ChaCha20Poly1305::new(&(*key).into())
        .decrypt_inout_detached(&Nonce::default(), &aad, buf.into(), &Tag::from(tag))
        .map_err(|_| TokenError::Open)
}

/// A public key's 32 bytes.
pub(crate) fn bytes32(key: &KemPublic) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(&key.to_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hpke::aead::AeadCtxS;
    use hpke::Kem as _;

    /// RFC 9180, Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
    /// ChaCha20Poly1305, Base mode (mode 0, kem 0x0020, kdf 0x0001, aead 0x0003),
    /// from the CFRG's draft-irtf-cfrg-hpke.md at commit b1f7cb0, the text RFC 9180
    /// was published from: setup, the first two encryptions and the exported values.
    mod rfc9180_a21 {
        pub const INFO: &str = "4f6465206f6e2061204772656369616e2055726e";
        pub const IKM_E: &str = "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b";
        pub const IKM_R: &str = "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df";
        pub const ENC: &str = "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a";
        pub const PT: &str = "4265617574792069732074727574682c20747275746820626561757479";
        /// (sequence number, aad, ct ‖ tag)
        pub const ENCRYPTIONS: [(u64, &str, &str); 2] = [
            (
                0,
                "436f756e742d30",
                "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
            ),
            (
                1,
                "436f756e742d31",
                "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c",
            ),
        ];
        /// (exporter context, L = 32, exported value)
        pub const EXPORTS: [(&str, &str); 3] = [
            (
                "",
                "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e",
            ),
            (
                "00",
                "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69",
            ),
            (
                "54657374436f6e74657874",
                "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53",
            ),
        ];
    }

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn seed(s: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(h(s).try_into().unwrap())
    }

    #[test]
    fn rfc9180_base_mode_encryptions_and_exports() {
        use rfc9180_a21::*;
        let (sk_r, pk_r) = Kem::derive_keypair(&h(IKM_R));
        let (enc, mut ctx): (_, AeadCtxS<HpkeChaCha, HkdfSha256, Kem>) =
            hpke::setup_sender_with_rng(&OpModeS::Base, &pk_r, &h(INFO), &mut SeedRng(seed(IKM_E)))
                .unwrap();
        assert_eq!(hex::encode(enc.to_bytes()), ENC);
        let mut rx = hpke::setup_receiver::<HpkeChaCha, HkdfSha256, Kem>(
            &OpModeR::Base,
            &sk_r,
            &enc,
            &h(INFO),
        )
        .unwrap();
        for (ctx_hex, value) in EXPORTS {
            let mut out = [0u8; 32];
            ctx.export(&h(ctx_hex), &mut out).unwrap();
            assert_eq!(hex::encode(out), value, "sender export {ctx_hex:?}");
            rx.export(&h(ctx_hex), &mut out).unwrap();
            assert_eq!(hex::encode(out), value, "receiver export {ctx_hex:?}");
        }
        for (seq, aad, ct) in ENCRYPTIONS {
            let sealed = ctx.seal(&h(PT), &h(aad)).unwrap();
            assert_eq!(hex::encode(&sealed), ct, "sequence {seq}");
            assert_eq!(rx.open(&h(ct), &h(aad)).unwrap(), h(PT), "sequence {seq}");
        }
    }

    fn pair(label: u8) -> (KemSecret, KemPublic) {
        Kem::derive_keypair(&[label; 32])
    }

    fn seal_sample(sender: &(KemSecret, KemPublic), zone: &KemPublic) -> (Sealed, Vec<u8>) {
        let mut buf = b"padded plaintext".to_vec();
        let id = SealerId::from_bytes([1, 2, 3, 4]);
        let s = seal(
            zone,
            (&sender.0, &sender.1),
            id,
            b"header",
            &mut buf,
            Zeroizing::new([9; 32]),
        )
        .unwrap();
        (s, buf)
    }

    fn try_open(
        zone: &(KemSecret, KemPublic),
        sender: &KemPublic,
        s: &Sealed,
        header: &[u8],
        ct: &[u8],
    ) -> Result<(SealerId, Vec<u8>), TokenError> {
        let u = unmask(&zone.0, &s.enc, &s.encrypted_id)?;
        let k_ss = static_secret(&zone.0, sender).ok_or(TokenError::Open)?;
        let mut buf = ct.to_vec();
        open(
            &u,
            &k_ss,
            &bytes32(sender),
            &bytes32(&zone.1),
            header,
            &s.enc,
            &s.encrypted_id,
            &mut buf,
            &s.tag,
        )?;
        Ok((u.sealer, buf))
    }

    #[test]
    fn round_trip_hides_the_id_and_binds_sealer_zone_and_header() {
        let (seller_a, seller_b, zone, other_zone) = (pair(1), pair(2), pair(3), pair(4));
        let (s, ct) = seal_sample(&seller_a, &zone.1);
        assert_ne!(s.encrypted_id, [1, 2, 3, 4]);
        let (id, pt) = try_open(&zone, &seller_a.1, &s, b"header", &ct).unwrap();
        assert_eq!(
            (id, pt.as_slice()),
            (SealerId::from_bytes([1, 2, 3, 4]), &b"padded plaintext"[..])
        );
        // Another seller's key (a relabelled token), another zone's key, another header.
        assert_eq!(
            try_open(&zone, &seller_b.1, &s, b"header", &ct),
            Err(TokenError::Open)
        );
        assert_eq!(
            try_open(&other_zone, &seller_a.1, &s, b"header", &ct),
            Err(TokenError::Open)
        );
        assert_eq!(
            try_open(&zone, &seller_a.1, &s, b"headeR", &ct),
            Err(TokenError::Open)
        );
        // A changed encrypted id unmasks to another id and fails authentication.
        let mut relabelled = Sealed {
            enc: s.enc,
            encrypted_id: s.encrypted_id,
            tag: s.tag,
        };
        relabelled.encrypted_id[0] ^= 1;
        assert_eq!(
            try_open(&zone, &seller_a.1, &relabelled, b"header", &ct),
            Err(TokenError::Open)
        );
        // The same ephemeral seed to another zone masks the id differently.
        let (s2, _) = seal_sample(&seller_a, &other_zone.1);
        assert_ne!(s2.encrypted_id, s.encrypted_id);
    }

    #[test]
    fn small_order_keys_are_refused() {
        let zone = pair(3);
        // The all-zero u-coordinate has order 1 (RFC 7748 §6.1's check).
        let zero = KemPublic::from_bytes(&[0; 32]);
        if let Ok(zero) = zero {
            assert!(static_secret(&zone.0, &zero).is_none());
        }
    }
}

/// Why suite 3 carries no signature: the CBOR payload sizes of the fixtures.
#[cfg(test)]
mod sizes {
    use crate::token::payload::{Payload, PAD_BUCKETS};
    use crate::{parse_batch, Validity};

    /// An Ed25519 signature and a 4-byte sealer id inside the ciphertext.
    const SIGNED_OVERHEAD: usize = 64 + 4;

    #[test]
    fn a_signature_inside_would_push_typical_records_out_of_the_first_bucket() {
        let t = time::OffsetDateTime::from_unix_timestamp(1_795_000_000).unwrap();
        let validity = Validity::days(t, 30).unwrap();
        let mut sizes: Vec<(String, usize)> =
            parse_batch(include_str!("../../fixtures/waybills.json"))
                .into_iter()
                .map(|w| {
                    let w = w.unwrap();
                    let mut out = Vec::new();
                    Payload::from_waybill(&w, &validity).encode_into(&mut out);
                    (w.tracking_number().as_str().to_owned(), out.len())
                })
                .collect();
        sizes.sort_by_key(|s| s.1);
        for (tn, n) in &sizes {
            println!("{tn:<22} {n:>4} CBOR bytes");
        }
        let typical: Vec<usize> = sizes
            .iter()
            .map(|s| s.1)
            .filter(|&n| n <= PAD_BUCKETS[0])
            .collect();
        let fit_signed = typical
            .iter()
            .filter(|&&n| n + SIGNED_OVERHEAD <= PAD_BUCKETS[0])
            .count();
        let median = typical[typical.len() / 2];
        println!(
            "{} records, {} in the first bucket, median {median} bytes; {fit_signed} would still fit with a signature",
            sizes.len(),
            typical.len()
        );
        assert_eq!((sizes.len(), typical.len()), (20, 19));
        assert!(median + SIGNED_OVERHEAD > PAD_BUCKETS[0]);
    }
}
