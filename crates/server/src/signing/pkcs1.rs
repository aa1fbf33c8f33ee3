//! RSASSA-PKCS1-v1_5 signature verification with SHA-256 (RFC 8017 §8.2.2), the operation
//! every submission needs twice (the signer's signature and the certificate's chain).
//!
//! Why not `rsa::pkcs1v15::VerifyingKey`: it raises to the public exponent with the
//! Montgomery ladder of `num-bigint-dig`, several times slower for e = 65537 than squaring
//! and reducing in Montgomery form on fixed-size limbs (below), and on opening day that
//! difference is most of a core. Verification only handles public values, so it needs no
//! constant-time arithmetic.
//! The check is the one RFC 8017 recommends: rebuild the whole encoded message the signature
//! must open to and compare it byte for byte, so no padding is parsed. The key itself is still
//! parsed and bounded by the `rsa` crate, and the tests compare every verdict with its own.

use num_bigint::BigUint;
use rsa::RsaPublicKey;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};

/// DER of the DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Whether `signature` is `key`'s RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
pub fn verify_sha256(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
    let modulus = BigUint::from_bytes_be(&key.n().to_bytes_be());
    let exponent = BigUint::from_bytes_be(&key.e().to_bytes_be());
    let k = modulus.bits().div_ceil(8) as usize;
    // At least eight bytes of 0xFF padding (RFC 8017 §9.2, step 3).
    let t_len = SHA256_DIGEST_INFO.len() + 32;
    if signature.len() != k || k < t_len + 11 {
        return false;
    }
    let s = BigUint::from_bytes_be(signature);
    if s >= modulus {
        return false;
    }
    let opened = public_power(&s, &exponent, &modulus).to_bytes_be();
    let mut expected = Vec::with_capacity(k);
    expected.extend_from_slice(&[0x00, 0x01]);
    expected.resize(k - t_len - 1, 0xff);
    expected.push(0x00);
    expected.extend_from_slice(&SHA256_DIGEST_INFO);
    expected.extend_from_slice(&Sha256::digest(message));
    // `opened` lacks the leading zero bytes; the encoded message always starts with 0x00 0x01.
    opened.len() == k - 1 && opened[..] == expected[1..]
}

/// `base` to the power `exponent` modulo `modulus`, left to right. For the usual odd RSA
/// moduli (2048, 3072, 4096 bits) in Montgomery form on fixed-size 64-bit limbs: each
/// multiplication is reduced in the same pass, with no division (`num-bigint` divides
/// after every product, twice the work of the product itself).
fn public_power(base: &BigUint, exponent: &BigUint, modulus: &BigUint) -> BigUint {
    if modulus.bit(0) && exponent.bits() > 0 {
        match modulus.to_u64_digits().len() {
            32 => return montgomery_power::<32>(base, exponent, modulus),
            48 => return montgomery_power::<48>(base, exponent, modulus),
            64 => return montgomery_power::<64>(base, exponent, modulus),
            _ => {}
        }
    }
    plain_power(base, exponent, modulus)
}

fn montgomery_power<const N: usize>(
    base: &BigUint,
    exponent: &BigUint,
    modulus: &BigUint,
) -> BigUint {
    let m: [u64; N] = limbs(modulus);
    let m_inv = negated_inverse(m[0]);
    // base·R mod m, R = 2^(64N): the one division.
    let b: [u64; N] = limbs(&(((base % modulus) << (64 * N)) % modulus));
    let mut x = b;
    for i in (0..exponent.bits() - 1).rev() {
        x = montgomery_product(&x, &x, &m, m_inv);
        if exponent.bit(i) {
            x = montgomery_product(&x, &b, &m, m_inv);
        }
    }
    let mut one = [0u64; N];
    one[0] = 1;
    let out = montgomery_product(&x, &one, &m, m_inv);
    BigUint::from_bytes_le(&out.iter().flat_map(|l| l.to_le_bytes()).collect::<Vec<_>>())
}

/// `value` (below 2^(64N)) as little-endian 64-bit limbs.
fn limbs<const N: usize>(value: &BigUint) -> [u64; N] {
    let mut out = [0u64; N];
    for (o, d) in out.iter_mut().zip(value.iter_u64_digits()) {
        *o = d;
    }
    out
}

/// -m0⁻¹ mod 2^64 for odd `m0` (each Newton step doubles the correct low bits).
fn negated_inverse(m0: u64) -> u64 {
    let mut inverse = m0; // correct to 3 bits for any odd m0
    for _ in 0..5 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(m0.wrapping_mul(inverse)));
    }
    inverse.wrapping_neg()
}

/// a·b·R⁻¹ mod m for a, b < m (coarsely integrated operand scanning).
fn montgomery_product<const N: usize>(
    a: &[u64; N],
    b: &[u64; N],
    m: &[u64; N],
    m_inv: u64,
) -> [u64; N] {
    let mut t = [0u64; N];
    let mut top = 0u64; // t's limb N; t < 2m, so its limb N+1 is only a carry
    for &bi in b {
        let mut carry = 0u64;
        for (tj, &aj) in t.iter_mut().zip(a) {
            let s = u128::from(*tj) + u128::from(aj) * u128::from(bi) + u128::from(carry);
            *tj = s as u64;
            carry = (s >> 64) as u64;
        }
        let s = u128::from(top) + u128::from(carry);
        top = s as u64;
        let over = (s >> 64) as u64;
        // Add u·m, which makes the lowest limb zero, and shift down one limb.
        let u = t[0].wrapping_mul(m_inv);
        let mut carry = ((u128::from(t[0]) + u128::from(u) * u128::from(m[0])) >> 64) as u64;
        for j in 1..N {
            let s = u128::from(t[j]) + u128::from(u) * u128::from(m[j]) + u128::from(carry);
            t[j - 1] = s as u64;
            carry = (s >> 64) as u64;
        }
        let s = u128::from(top) + u128::from(carry);
        t[N - 1] = s as u64;
        top = over + (s >> 64) as u64;
    }
    if top != 0 || t.iter().rev().cmp(m.iter().rev()) != std::cmp::Ordering::Less {
        let mut borrow = false;
        for (tj, &mj) in t.iter_mut().zip(m) {
            let (d, b1) = tj.overflowing_sub(mj);
            let (d, b2) = d.overflowing_sub(u64::from(borrow));
            *tj = d;
            borrow = b1 || b2;
        }
    }
    t
}

/// [`public_power`] by multiplying and dividing, for any modulus.
fn plain_power(base: &BigUint, exponent: &BigUint, modulus: &BigUint) -> BigUint {
    let mut result = BigUint::from(1u32);
    for i in (0..exponent.bits()).rev() {
        result = (&result * &result) % modulus;
        if exponent.bit(i) {
            result = (&result * base) % modulus;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
    use rsa::signature::{SignatureEncoding, Signer, Verifier};
    use rsa::{Pkcs1v15Sign, RsaPrivateKey};

    fn reference(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        Signature::try_from(signature).is_ok_and(|s| {
            VerifyingKey::<Sha256>::new(key.clone())
                .verify(message, &s)
                .is_ok()
        })
    }

    /// Both verdicts, which must agree.
    fn judge(key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        let ours = verify_sha256(key, message, signature);
        assert_eq!(
            ours,
            reference(key, message, signature),
            "verdicts differ for a {}-byte signature",
            signature.len()
        );
        ours
    }

    #[test]
    fn agrees_with_the_rsa_crate_on_good_and_bad_signatures() {
        let mut rng = rand_core::OsRng;
        for bits in [1024, 2048, 3072] {
            let private = RsaPrivateKey::new(&mut rng, bits).unwrap();
            let key = private.to_public_key();
            let signer = SigningKey::<Sha256>::new(private.clone());
            for n in 0..8u8 {
                let message = vec![n; usize::from(n) * 37];
                let signature = signer.sign(&message).to_vec();
                assert!(
                    judge(&key, &message, &signature),
                    "{bits}-bit signature {n}"
                );
                // Any changed bit of the signature or the message.
                let mut changed = signature.clone();
                changed[usize::from(n) * 7 % signature.len()] ^= 1 << (n % 8);
                assert!(!judge(&key, &message, &changed));
                let mut other = message.clone();
                other.push(1);
                assert!(!judge(&key, &other, &signature));
                // The same value written with a leading zero byte, or cut short.
                let mut longer = vec![0];
                longer.extend_from_slice(&signature);
                assert!(!verify_sha256(&key, &message, &longer));
                assert!(!judge(&key, &message, &signature[1..]));
            }
            // A signature value not below the modulus.
            let modulus = key.n().to_bytes_be();
            assert!(!judge(&key, b"x", &modulus));
            assert!(!judge(&key, b"x", &vec![0xff; modulus.len()]));
            // A signature by another key, and a SHA-1 signature of the same digest length.
            let stranger = RsaPrivateKey::new(&mut rng, bits).unwrap();
            let by_stranger = SigningKey::<Sha256>::new(stranger).sign(b"x").to_vec();
            assert!(!judge(&key, b"x", &by_stranger));
            let sha1 = private
                .sign(Pkcs1v15Sign::new::<sha1::Sha1>(), &sha1::Sha1::digest(b"x"))
                .unwrap();
            assert!(!judge(&key, b"x", &sha1));
        }
    }

    #[test]
    fn the_power_is_the_modular_power() {
        for modulus in [1_000_003u32, 1_000_004, 3] {
            let modulus = BigUint::from(modulus);
            for (base, exponent) in [(2u32, 65_537u32), (12_345, 3), (999_999, 1), (7, 0)] {
                let (base, exponent) = (BigUint::from(base), BigUint::from(exponent));
                assert_eq!(
                    public_power(&base, &exponent, &modulus),
                    base.modpow(&exponent, &modulus)
                );
            }
        }
        // Odd moduli of the sizes computed in Montgomery form (and around them), the top limb
        // full or nearly empty, bases from 0 to the modulus less one.
        use rand_core::RngCore;
        let mut rng = rand_core::OsRng;
        for bits in [1024usize, 1985, 2047, 2048, 2049, 3072, 4096] {
            for round in 0..6 {
                let mut bytes = vec![0u8; bits.div_ceil(8)];
                rng.fill_bytes(&mut bytes);
                let mut modulus = BigUint::from_bytes_be(&bytes) >> (bytes.len() * 8 - bits);
                modulus.set_bit(bits as u64 - 1, true);
                modulus.set_bit(0, true);
                rng.fill_bytes(&mut bytes);
                let base = match round {
                    0 => &modulus - 1u32,
                    1 => BigUint::from(0u32),
                    2 => BigUint::from(1u32),
                    _ => BigUint::from_bytes_be(&bytes) % &modulus,
                };
                for exponent in [65_537u32, 3, 1, 2, 0xffff_ffff] {
                    let exponent = BigUint::from(exponent);
                    assert_eq!(
                        public_power(&base, &exponent, &modulus),
                        base.modpow(&exponent, &modulus),
                        "{bits}-bit modulus, round {round}, exponent {exponent}"
                    );
                }
            }
        }
    }
}
