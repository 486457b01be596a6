//! Suppression against an exhaustive reader: every table consistent with
//! what is published is enumerated, and every `<t` cell must take at least
//! two values among them.

use super::*;
use proptest::prelude::*;

const T: u32 = 5;

/// A person-like table: `k` category rows of (new, continuing, longer-term);
/// reached = new + continuing; a totals row. Without `longer`, the table
/// has only new, continuing and reached.
fn person_grid(rows: &[(u64, u64, u64)]) -> Grid {
    grid_of(rows, true)
}

fn grid_of(rows: &[(u64, u64, u64)], longer: bool) -> Grid {
    let cols = if longer { 4 } else { 3 };
    let mut values = Vec::new();
    let mut total = vec![0u64; cols];
    for &(n, c, l) in rows {
        let r = [n, c, n + c, l.min(n + c)];
        for (t, v) in total.iter_mut().zip(r) {
            *t += v;
        }
        values.extend(&r[..cols]);
    }
    values.extend(total);
    Grid {
        rows: rows.len() + 1,
        cols,
        values,
        col_total: true,
        row_sum: Some(RowSum {
            parts: vec![0, 1],
            total: 2,
        }),
        le: if longer { vec![(3, 2)] } else { Vec::new() },
    }
}

/// Every value each cell takes over all tables consistent with the
/// published marks (hidden inner cells searched up to `cap`).
fn reader_view(g: &Grid, marks: &[Mark], cap: u64) -> Vec<BTreeSet<u64>> {
    let (k, cols) = (g.rows - 1, g.cols);
    let range = |i: usize| -> Vec<u64> {
        match marks[i] {
            Mark::Shown => vec![g.values[i]],
            Mark::Below => (0..u64::from(T)).collect(),
            Mark::Hidden => (u64::from(T)..=cap).collect(),
        }
    };
    let mut seen = vec![BTreeSet::new(); g.values.len()];
    // Free cells: new, continuing (and longer-term) of each category row.
    let free: Vec<usize> = (0..k)
        .flat_map(|r| [r * cols, r * cols + 1, r * cols + 3])
        .filter(|&i| i % cols != 3 || cols == 4)
        .collect();
    let ranges: Vec<Vec<u64>> = free.iter().map(|&i| range(i)).collect();
    let mut pick = vec![0usize; free.len()];
    loop {
        let mut v = vec![0u64; g.values.len()];
        for (j, &i) in free.iter().enumerate() {
            v[i] = ranges[j][pick[j]];
        }
        for r in 0..k {
            v[r * cols + 2] = v[r * cols] + v[r * cols + 1];
        }
        for c in 0..cols {
            v[k * cols + c] = (0..k).map(|r| v[r * cols + c]).sum();
        }
        let consistent = (0..v.len()).all(|i| match marks[i] {
            Mark::Shown => v[i] == g.values[i],
            Mark::Below => v[i] < u64::from(T),
            Mark::Hidden => v[i] >= u64::from(T),
        }) && (cols < 4 || (0..=k).all(|r| v[r * cols + 3] <= v[r * cols + 2]));
        if consistent {
            for (s, x) in seen.iter_mut().zip(&v) {
                s.insert(*x);
            }
        }
        // Next combination.
        let mut j = 0;
        loop {
            if j == pick.len() {
                return seen;
            }
            pick[j] += 1;
            if pick[j] < ranges[j].len() {
                break;
            }
            pick[j] = 0;
            j += 1;
        }
    }
}

fn assert_protected(g: &Grid, marks: &[Mark]) {
    // Inner cells are searched up to 3 above the largest true inner value: a
    // subset of what a reader may assume, so a pass is conservative.
    let inner_max = (0..(g.rows - 1) * g.cols)
        .filter(|i| i % g.cols != 2)
        .map(|i| g.values[i])
        .max()
        .unwrap_or(0);
    let cap = inner_max + 3;
    let view = reader_view(g, marks, cap);
    for (i, m) in marks.iter().enumerate() {
        assert!(
            view[i].contains(&g.values[i]),
            "the true table must be consistent"
        );
        if *m == Mark::Below {
            assert!(
                view[i].len() >= 2,
                "cell {i} (value {}) can be recomputed: {view:?} marks {marks:?} values {:?}",
                g.values[i],
                g.values
            );
        }
    }
}

#[test]
fn a_single_small_cell_in_a_row_and_column_is_protected_by_hiding_others() {
    // Row 0: new 2 (small), continuing 10; row 1: new 8, continuing 9.
    let g = person_grid(&[(2, 10, 0), (8, 9, 9)]);
    let marks = suppress(&g, T, &[]);
    // The small cell is not alone in its row or its column.
    assert_eq!(marks[0], Mark::Below);
    assert!(marks[1] != Mark::Shown || marks[2] != Mark::Shown);
    assert_protected(&g, &marks);
}

#[test]
fn nothing_to_hide_when_every_cell_is_large() {
    let g = person_grid(&[(6, 10, 7), (8, 9, 9)]);
    let marks = suppress(&g, T, &[]);
    assert!(marks.iter().all(|m| *m == Mark::Shown));
}

#[test]
fn a_small_total_is_itself_suppressed() {
    let g = person_grid(&[(1, 1, 0), (1, 0, 1)]);
    let marks = suppress(&g, T, &[]);
    assert!(marks.iter().all(|m| *m == Mark::Below));
    assert_protected(&g, &marks);
}

#[test]
fn one_column_tables_hide_a_second_cell() {
    // 3 + 12 + 20 = 35: without a second hidden cell 3 = 35 - 12 - 20.
    let g = Grid {
        rows: 4,
        cols: 1,
        values: vec![3, 12, 20, 35],
        col_total: true,
        row_sum: None,
        le: Vec::new(),
    };
    let marks = suppress(&g, T, &[]);
    assert_eq!(
        marks,
        vec![Mark::Below, Mark::Hidden, Mark::Shown, Mark::Shown]
    );
}

#[test]
fn tables_sharing_totals_hide_the_same_totals() {
    let a = person_grid(&[(3, 0, 3), (9, 9, 9)]);
    let b = person_grid(&[(6, 4, 6), (6, 5, 6)]);
    let marks = suppress_together(&[a.clone(), b.clone()], T);
    let total_row = |m: &[Mark]| m[8..12].to_vec();
    assert_eq!(total_row(&marks[0]), total_row(&marks[1]));
    assert_protected(&a, &marks[0]);
    assert_protected(&b, &marks[1]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// No `<5` cell of a two-category table can be recomputed from its
    /// row and column totals (or the longer-term <= reached inequality).
    #[test]
    fn no_suppressed_cell_can_be_recomputed(
        rows in proptest::collection::vec((0u64..=8, 0u64..=8, 0u64..=8), 2..=2)
    ) {
        let g = person_grid(&rows);
        let marks = suppress(&g, T, &[]);
        assert_protected(&g, &marks);
    }

    /// Three categories, without the longer-term column (kept small enough
    /// to enumerate).
    #[test]
    fn no_suppressed_cell_can_be_recomputed_in_larger_tables(
        rows in proptest::collection::vec((0u64..=7, 0u64..=7), 3..=3)
    ) {
        let rows: Vec<(u64, u64, u64)> = rows.into_iter().map(|(n, c)| (n, c, 0)).collect();
        let g = grid_of(&rows, false);
        let marks = suppress(&g, T, &[]);
        assert_protected(&g, &marks);
    }

    /// One-column tables (outcomes, referrals).
    #[test]
    fn one_column_tables_are_protected(values in proptest::collection::vec(0u64..=12, 2..=5)) {
        let mut v = values.clone();
        v.push(values.iter().sum());
        let g = Grid { rows: v.len(), cols: 1, values: v.clone(), col_total: true, row_sum: None, le: Vec::new() };
        let marks = suppress(&g, T, &[]);
        // Enumerate: every inner cell in its published range, total = sum.
        let k = values.len();
        let cap = values.iter().copied().max().unwrap_or(0) + 3;
        let ranges: Vec<Vec<u64>> = (0..k).map(|i| match marks[i] {
            Mark::Shown => vec![v[i]],
            Mark::Below => (0..u64::from(T)).collect(),
            Mark::Hidden => (u64::from(T)..=cap).collect(),
        }).collect();
        let mut seen = vec![BTreeSet::new(); k + 1];
        let mut pick = vec![0usize; k];
        'outer: loop {
            let x: Vec<u64> = (0..k).map(|i| ranges[i][pick[i]]).collect();
            let total: u64 = x.iter().sum();
            let ok = match marks[k] {
                Mark::Shown => total == v[k],
                Mark::Below => total < u64::from(T),
                Mark::Hidden => total >= u64::from(T),
            };
            if ok {
                for (s, val) in seen.iter_mut().zip(x.iter().chain([&total])) {
                    s.insert(*val);
                }
            }
            let mut j = 0;
            loop {
                if j == k { break 'outer; }
                pick[j] += 1;
                if pick[j] < ranges[j].len() { break; }
                pick[j] = 0;
                j += 1;
            }
        }
        for i in 0..=k {
            if marks[i] == Mark::Below {
                prop_assert!(seen[i].len() >= 2, "cell {} of {:?} marks {:?}", i, v, marks);
            }
        }
    }
}
