//! A cursor over untrusted bytes: every read returns `Result`, and the caller
//! must finish with [`Reader::finish`], which rejects trailing bytes.

/// The input ended early, or bytes were left over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// Fewer bytes than the format requires.
    Truncated,
    /// Bytes left after the last field.
    Trailing,
}

/// Reads big-endian fields from a byte slice.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Takes the next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        if n > self.rest.len() {
            return Err(ReadError::Truncated);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    /// Takes exactly `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// Reads one byte.
    pub(crate) fn u8(&mut self) -> Result<u8, ReadError> {
        Ok(self.array::<1>()?[0])
    }

    /// Reads a big-endian `u16`.
    pub(crate) fn u16(&mut self) -> Result<u16, ReadError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u32`.
    pub(crate) fn u32(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    /// Reads a big-endian `u64`.
    pub(crate) fn u64(&mut self) -> Result<u64, ReadError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// Reads a `u8` length followed by that many bytes.
    pub(crate) fn bytes_u8(&mut self) -> Result<&'a [u8], ReadError> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Ends the read, rejecting leftover bytes.
    pub(crate) fn finish(self) -> Result<(), ReadError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(ReadError::Trailing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_rejects_leftovers() {
        let mut r = Reader::new(&[1, 0, 2, 0, 0, 0, 3, 2, 9, 9, 7]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(2));
        assert_eq!(r.u32(), Ok(3));
        assert_eq!(r.bytes_u8(), Ok(&[9u8, 9][..]));
        assert_eq!(r.remaining(), 1);
        assert_eq!(r.finish(), Err(ReadError::Trailing));
    }

    #[test]
    fn short_input_is_truncated_not_a_panic() {
        let mut r = Reader::new(&[5, 1]);
        assert_eq!(r.bytes_u8(), Err(ReadError::Truncated));
        assert_eq!(Reader::new(&[1]).u64(), Err(ReadError::Truncated));
    }
}
