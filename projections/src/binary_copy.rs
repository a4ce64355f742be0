//! Rows in the binary format of Postgres's `COPY … FROM STDIN (FORMAT binary)`.
//!
//! For writing many new rows at once. The server takes each value as it arrives, where
//! `INSERT … SELECT * FROM UNNEST(arrays)` first reads every column as an array and then builds
//! the rows from them. See docs/decisions/0003-binary-copy-for-read-model-writes.md for what it
//! measured.
use crate::Arg;

/// The fixed start of the format: signature, flags (no OIDs), no header extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// Column values as Postgres's binary send functions write them. Each column's type is one of
/// `text`, `bigint` or `boolean`, as [`crate::staged::StagedRow::TYPES`] gives them.
pub(crate) struct BinaryRows {
    data: Vec<u8>,
    types: &'static [&'static str],
}

impl BinaryRows {
    pub fn new(types: &'static [&'static str]) -> BinaryRows {
        BinaryRows {
            data: HEADER.to_vec(),
            types,
        }
    }

    /// Adds one row: `values` in the order of the types.
    pub fn push(&mut self, values: &[Arg]) -> Result<(), sqlx::Error> {
        if values.len() != self.types.len() {
            return Err(encode_error(format!(
                "a row of {} values for {} columns",
                values.len(),
                self.types.len()
            )));
        }
        let columns = i16::try_from(values.len())
            .map_err(|_| encode_error(format!("{} columns", values.len())))?;
        self.data.extend_from_slice(&columns.to_be_bytes());
        for (value, ty) in values.iter().zip(self.types) {
            match *ty {
                "bigint" => self.field(value.as_int().map(i64::to_be_bytes).as_ref())?,
                "boolean" => self.field(value.as_bool().map(|b| [u8::from(b)]).as_ref())?,
                _ => self.field(value.as_text())?,
            }
        }
        Ok(())
    }

    /// Everything pushed, with the format's trailer.
    pub fn finish(mut self) -> Vec<u8> {
        self.data.extend_from_slice(&(-1i16).to_be_bytes());
        self.data
    }

    /// A field: its length, or -1 for NULL, then its bytes.
    fn field(&mut self, bytes: Option<&(impl AsRef<[u8]> + ?Sized)>) -> Result<(), sqlx::Error> {
        let Some(bytes) = bytes.map(AsRef::as_ref) else {
            self.data.extend_from_slice(&(-1i32).to_be_bytes());
            return Ok(());
        };
        let length = i32::try_from(bytes.len())
            .map_err(|_| encode_error(format!("a value of {} bytes", bytes.len())))?;
        self.data.extend_from_slice(&length.to_be_bytes());
        self.data.extend_from_slice(bytes);
        Ok(())
    }
}

fn encode_error(message: String) -> sqlx::Error {
    sqlx::Error::Encode(format!("binary COPY: {message}").into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_framed_as_postgres_reads_them() {
        let mut rows = BinaryRows::new(&["text", "bigint", "boolean", "text", "bigint"]);
        rows.push(&[
            Arg::Text("é".into()),
            Arg::Int(-2),
            Arg::Bool(true),
            Arg::OptText(None),
            Arg::OptInt(None),
        ])
        .unwrap();
        let mut expected = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend([0, 0, 0, 0, 0, 0, 0, 0]);
        expected.extend([0, 5]);
        expected.extend([0, 0, 0, 2, 0xC3, 0xA9]);
        expected.extend([0, 0, 0, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]);
        expected.extend([0, 0, 0, 1, 1]);
        expected.extend([0xFF, 0xFF, 0xFF, 0xFF]);
        expected.extend([0xFF, 0xFF, 0xFF, 0xFF]);
        expected.extend([0xFF, 0xFF]);
        assert_eq!(rows.finish(), expected);
    }

    #[test]
    fn a_row_of_the_wrong_width_is_refused() {
        let mut rows = BinaryRows::new(&["text", "bigint"]);
        assert!(rows.push(&[Arg::Text("x".into())]).is_err());
    }
}
