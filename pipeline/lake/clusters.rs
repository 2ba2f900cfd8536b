//! Staged rows written in runs of account ids: a staging table's batches are held until
//! [`HELD_BYTES`] of them, then written ordered by account to a file of their own, in row
//! groups that end between accounts. Each row group then holds a narrow range of account
//! ids, so a commit bucket (a range of accounts) reads the staged files through their row
//! groups' statistics and skips most of the others, with no copy of the staged rows made
//! per bucket; a file per window keeps each footer, which every bucket reads, short.
//!
//! Extraction sends the rows of one account at a time (a page of instances, an account's
//! users), so ordering the held batches is a sort of batches, not of rows. Held batches
//! that mix accounts are ordered row by row instead: concatenated, then sorted.

use arrow::array::{Array, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};

use crate::error::{Error, Result};
use crate::lake::TableWriter;

/// Bytes of staged batches (Arrow memory) a table holds before writing them: the wider this
/// window, the fewer row groups a range of accounts shares with other ranges.
pub const HELD_BYTES: usize = 32 * 1024 * 1024;

/// Rows a staged row group holds at least before it may end (between two accounts): small,
/// so that a row group spans few accounts, yet large enough that the per-row-group and
/// per-batch costs of reading it stay small beside its rows'.
pub const MIN_ROWS_PER_ROW_GROUP: usize = 4096;

/// A staging table's batches held back until they are written.
#[derive(Default)]
pub struct AccountClusters {
    held: Vec<RecordBatch>,
    bytes: usize,
}

impl AccountClusters {
    /// Holds `batch`.
    pub fn push(&mut self, batch: RecordBatch) {
        self.bytes += batch.get_array_memory_size();
        self.held.push(batch);
    }

    /// Whether the held batches have reached [`HELD_BYTES`].
    pub fn is_full(&self) -> bool {
        self.bytes >= HELD_BYTES
    }

    /// Writes the held batches to a file of `writer`'s own in order of account id (rows
    /// without one first), ending a row group at an account's end once it holds
    /// [`MIN_ROWS_PER_ROW_GROUP`] rows, and after the last.
    pub async fn write(&mut self, writer: &mut TableWriter) -> Result<()> {
        self.write_rows(writer).await?;
        writer.end_file().await
    }

    async fn write_rows(&mut self, writer: &mut TableWriter) -> Result<()> {
        let held = std::mem::take(&mut self.held);
        self.bytes = 0;
        let mut single = Vec::with_capacity(held.len());
        for batch in &held {
            match single_account(batch)? {
                Some(account) => single.push(account),
                None => return write_sorted_rows(&held, writer).await,
            }
        }
        // One account per batch: the batches are ordered (stably: an account's batches
        // keep the order they came in), their rows left as they are.
        let mut order: Vec<usize> = (0..held.len()).collect();
        order.sort_by(|&a, &b| single[a].cmp(&single[b]));
        let ends = row_group_ends(order.len(), |at| held[order[at]].num_rows(), |at| &single[order[at]]);
        let mut start = 0;
        for end in ends {
            for &i in &order[start..end] {
                writer.write(&held[i]).await?;
            }
            writer.end_row_group().await?;
            start = end;
        }
        Ok(())
    }
}

/// Writes the rows of `held` sorted by account id, one row group per run of
/// [`MIN_ROWS_PER_ROW_GROUP`] rows or more that ends where an account does.
async fn write_sorted_rows(held: &[RecordBatch], writer: &mut TableWriter) -> Result<()> {
    let Some(first) = held.first() else {
        return Ok(());
    };
    let all = concat_batches(&first.schema(), held)?;
    let ids = account_ids(&all)?;
    let id = |row: usize| ids.is_valid(row).then(|| ids.value(row));
    // A stable sort: an account's rows keep their order.
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    order.sort_by(|&a, &b| id(a as usize).cmp(&id(b as usize)));
    let ends = row_group_ends(order.len(), |_| 1, |row| id(order[row] as usize));
    let sorted = take_record_batch(&all, &UInt32Array::from(order))?;
    drop(all);
    let mut start = 0;
    for end in ends {
        writer.write(&sorted.slice(start, end - start)).await?;
        writer.end_row_group().await?;
        start = end;
    }
    Ok(())
}

/// Where the row groups over `items` items in order of account end (exclusive ends, in
/// items): at the first account's end once the group holds [`MIN_ROWS_PER_ROW_GROUP`] rows,
/// and after the last item. An item is a row (`rows_of` 1) or a batch of one account's
/// rows; `id` is its account.
fn row_group_ends<K: PartialEq>(items: usize, rows_of: impl Fn(usize) -> usize, id: impl Fn(usize) -> K) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut rows = 0;
    for item in 0..items {
        rows += rows_of(item);
        let last = item + 1 == items;
        if last || (id(item + 1) != id(item) && rows >= MIN_ROWS_PER_ROW_GROUP) {
            ends.push(item + 1);
            rows = 0;
        }
    }
    ends
}

/// The batch's `account_id` column as text.
fn account_ids(batch: &RecordBatch) -> Result<StringArray> {
    let accounts = batch
        .column_by_name("account_id")
        .ok_or_else(|| Error::Schema("a staged table has no account_id column".into()))?;
    Ok(crate::lake::text_values(accounts)?)
}

/// The one account id of every row of `batch` (`Some(None)`: every row has none), or
/// `None` when its rows are of more than one account.
fn single_account(batch: &RecordBatch) -> Result<Option<Option<String>>> {
    let ids = account_ids(batch)?;
    let id = |row: usize| ids.is_valid(row).then(|| ids.value(row));
    let first = match batch.num_rows() {
        0 => None,
        _ => id(0),
    };
    Ok((1..batch.num_rows())
        .all(|row| id(row) == first)
        .then(|| first.map(str::to_string)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_groups_end_between_accounts_once_they_hold_enough_rows() {
        let min = MIN_ROWS_PER_ROW_GROUP;
        // Accounts of min - 1, 2, min + 5 and 3 rows, in order.
        let mut ids = vec!["111"; min - 1];
        ids.extend(["222"; 2]);
        ids.extend(vec!["333"; min + 5]);
        ids.extend(["444"; 3]);
        let ends = row_group_ends(ids.len(), |_| 1, |row| Some(ids[row]));
        // 111 alone is too small, so the first group ends after 222; 333 fills one of its
        // own; 444 ends with the rows.
        assert_eq!(ends, vec![min + 1, 2 * min + 6, 2 * min + 9]);
        assert_eq!(row_group_ends(0, |_| 1, |_| None::<&str>), Vec::<usize>::new());
        assert_eq!(row_group_ends(3, |_| 1, |_| None::<&str>), vec![3]);
        // The same accounts as one batch each: the groups end after the same accounts.
        let batches = [(min - 1, "111"), (2, "222"), (min + 5, "333"), (3, "444")];
        assert_eq!(row_group_ends(4, |at| batches[at].0, |at| batches[at].1), vec![2, 3, 4]);
    }
}
