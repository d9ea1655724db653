//! Courier tokens: the sealed QR envelope, key ring, grants and the resolver.
