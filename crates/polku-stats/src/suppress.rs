//! Small-cell suppression (pienten solujen piilottaminen).
//!
//! Method:
//! 1. **Primary suppression**: every cell under the threshold `t` (zeros
//!    included) is shown as `<t`. A reader then knows such a cell is in
//!    `0..=t-1`.
//! 2. **Secondary suppression**: further cells are hidden (shown as `x`)
//!    until no `<t` cell can be recomputed from the table's row and column
//!    totals. A reader who knows the method knows an `x` cell is `>= t`.
//!
//! The check is constructive. The published table fixes the shown cells and
//! bounds the others; totals give linear equations (each row: parts = row
//! total; each column: rows = totals row) and, for a "joista" column, the
//! inequality `part <= whole`. A `<t` cell is safe when a *second* table
//! exists that agrees with everything published but differs in that cell.
//! Such a table is found by moving ±1 along a cycle of suppressed cells that
//! alternates between row and column equations (so every total still adds
//! up) where every cell on the cycle stays inside its bounds. A search over
//! the equations finds the cycle; where `part <= whole` is tight, the wholes
//! on the cycle take their parts along (the parts' column then adds up just
//! as the wholes' column does). Every such second table is re-checked
//! against every equation, bound and inequality before it counts.
//!
//! While some `<t` cell has no such cycle, the cheapest cycle through it that
//! may also run over shown cells is found (Dijkstra; a shown cell costs more
//! the larger it is, a total most) and its shown cells are hidden; then the
//! search repeats. (If none exists, the smallest shown cell of its equations
//! is hidden.)
//!
//! Tables of one group that share a totals row (every "young people reached"
//! table has the same totals) are suppressed together: a totals cell hidden
//! in one is hidden in all, so no table gives away what another hides.
//!
//! Limits, and what is published: a group's tables are protected against
//! their own totals only. The organisation's tables are the cell-wise sum of
//! the unit tables, so a unit cell hidden in its table could be recomputed as
//! the organisation's cell minus the other units' cells if they were
//! published together. Hence a suppressed report holds only its top group
//! (the organisation, or the one unit asked for): unit and worker tables
//! exist only in unsuppressed reports, which are for internal use. Publish
//! one suppressed report per period, the organisation's; a unit's suppressed
//! report is for that unit's own use (beside the organisation's it would
//! give away the other units' sum).

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

/// Each row's parts add up to a total column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RowSum {
    /// Columns that are parts.
    pub parts: Vec<usize>,
    /// The column holding their sum.
    pub total: usize,
}

/// A table's numbers and the equations its totals make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grid {
    /// Rows, the totals row included when `col_total`.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row-major values.
    pub values: Vec<u64>,
    /// The last row holds the column sums of the rows above it.
    pub col_total: bool,
    /// Within each row, parts add up to a total column.
    pub row_sum: Option<RowSum>,
    /// `(a, b)`: in every row, the cell of column `a` is at most that of `b`.
    pub le: Vec<(usize, usize)>,
}

/// How a cell is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// The value.
    Shown,
    /// `<t`.
    Below,
    /// `x`.
    Hidden,
}

/// One end of a cell: the equation node and the cell's coefficient in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct End {
    node: usize,
    coef: i64,
}

struct Structure {
    /// Per cell: its row-equation end and its column-equation end.
    ends: Vec<[End; 2]>,
    /// Per equation node: the cells in it.
    members: Vec<Vec<usize>>,
    free: usize,
}

impl Grid {
    fn structure(&self) -> Structure {
        let free = self.rows + self.cols;
        let mut members = vec![Vec::new(); free + 1];
        let mut ends = Vec::with_capacity(self.rows * self.cols);
        for r in 0..self.rows {
            for c in 0..self.cols {
                let i = r * self.cols + c;
                let row_end = match &self.row_sum {
                    Some(rs) if rs.parts.contains(&c) => End { node: r, coef: 1 },
                    Some(rs) if rs.total == c => End { node: r, coef: -1 },
                    _ => End {
                        node: free,
                        coef: 0,
                    },
                };
                let col_end = if self.col_total {
                    End {
                        node: self.rows + c,
                        coef: if r + 1 < self.rows { 1 } else { -1 },
                    }
                } else {
                    End {
                        node: free,
                        coef: 0,
                    }
                };
                for end in [row_end, col_end] {
                    if end.node != free {
                        members[end.node].push(i);
                    }
                }
                ends.push([row_end, col_end]);
            }
        }
        Structure {
            ends,
            members,
            free,
        }
    }

    fn is_total_cell(&self, i: usize) -> bool {
        let (r, c) = (i / self.cols, i % self.cols);
        (self.col_total && r + 1 == self.rows)
            || self.row_sum.as_ref().is_some_and(|rs| rs.total == c)
    }

    /// Whether `new` (a candidate value of every cell) keeps `i` within what
    /// the published table says about it.
    fn within(&self, i: usize, new: &[i64], marks: &[Mark], t: i64) -> bool {
        let v = new[i];
        let ok = match marks[i] {
            Mark::Shown => v == self.values[i] as i64,
            Mark::Below => (0..t).contains(&v),
            Mark::Hidden => v >= t,
        };
        let (r, c) = (i / self.cols, i % self.cols);
        ok && self.le.iter().all(|&(a, b)| {
            if c == a {
                v <= new[r * self.cols + b]
            } else if c == b {
                new[r * self.cols + a] <= v
            } else {
                true
            }
        })
    }
}

/// Suppress `grid` with threshold `t`; `forced` cells are hidden whatever
/// their value. Returns one mark per cell.
pub(crate) fn suppress(grid: &Grid, t: u32, forced: &[usize]) -> Vec<Mark> {
    let n = grid.rows * grid.cols;
    let s = grid.structure();
    let mut marks: Vec<Mark> = grid
        .values
        .iter()
        .map(|&v| {
            if v < u64::from(t) {
                Mark::Below
            } else {
                Mark::Shown
            }
        })
        .collect();
    for &i in forced {
        if i < n && marks[i] == Mark::Shown {
            marks[i] = Mark::Hidden;
        }
    }
    // Hiding a cell only widens what a reader can assume, so a cell once
    // shown safe stays safe.
    let mut safe = vec![false; n];
    loop {
        let exposed = (0..n).find(|&i| {
            if marks[i] != Mark::Below || safe[i] {
                return false;
            }
            safe[i] = is_safe(grid, &s, &marks, t, i);
            !safe[i]
        });
        let Some(e) = exposed else {
            return marks;
        };
        // The cheapest cycle through `e` over shown cells: hide those.
        if let Some(cells) = cheapest_fix(grid, &s, &marks, t, e)
            && !cells.is_empty()
        {
            for i in cells {
                marks[i] = Mark::Hidden;
            }
            continue;
        }
        // No such cycle (shown cells at their bounds): hide the smallest
        // shown cell of its equations, else of the table.
        let in_equations: BTreeSet<usize> = s.ends[e]
            .iter()
            .filter(|end| end.node != s.free)
            .flat_map(|end| s.members[end.node].iter().copied())
            .collect();
        let pick = |cands: &mut dyn Iterator<Item = usize>| {
            cands
                .filter(|&i| marks[i] == Mark::Shown)
                .min_by_key(|&i| (grid.is_total_cell(i), grid.values[i], i))
        };
        let chosen = pick(&mut in_equations.iter().copied()).or_else(|| pick(&mut (0..n)));
        match chosen {
            Some(i) => marks[i] = Mark::Hidden,
            // Everything is suppressed: nothing more can be done.
            None => return marks,
        }
    }
}

/// Whether the `<t` cell `e` has a second completion of the table.
fn is_safe(grid: &Grid, s: &Structure, marks: &[Mark], t: u32, e: usize) -> bool {
    ways(grid, e).into_iter().any(|(start, d, mirror)| {
        find_cycle(grid, s, marks, t, start, d, mirror, false).is_some_and(|c| c.to_hide.is_empty())
    })
}

/// A search: the cell the cycle runs through, the direction, the mirrored
/// `(part, whole)` columns.
type Way = (usize, i64, Option<(usize, usize)>);

/// The searches that can show `e` may take another value: `(cell the cycle
/// runs through, direction, mirror)`.
///
/// With `part <= whole`, a whole that is already tight can only move together
/// with its part: the wholes on the cycle take the parts in their rows along
/// (the parts' column then adds up just as the wholes' column does).
fn ways(grid: &Grid, e: usize) -> Vec<Way> {
    let pair = grid.le.first().copied();
    let mut out = Vec::new();
    for d in [1, -1] {
        out.push((e, d, None));
        match pair {
            Some((a, b)) if e % grid.cols == a => out.push((e - a + b, d, pair)),
            Some(_) => out.push((e, d, pair)),
            None => {}
        }
    }
    out
}

/// The cells to hide so that `e` gets a second completion: the cheapest
/// cycle through it, shown cells costing more the larger they are (and
/// totals most).
fn cheapest_fix(
    grid: &Grid,
    s: &Structure,
    marks: &[Mark],
    t: u32,
    e: usize,
) -> Option<Vec<usize>> {
    ways(grid, e)
        .into_iter()
        .filter_map(|(start, d, mirror)| find_cycle(grid, s, marks, t, start, d, mirror, true))
        .min_by_key(|c| c.cost)
        .map(|c| c.to_hide)
}

/// How a search state was reached: the previous state `(node, imbalance)`,
/// the cell moved and by how much.
type Step = ((usize, i64), usize, i64);

/// A second completion: the changes and the shown cells it needs hidden.
struct Cycle {
    to_hide: Vec<usize>,
    cost: u64,
}

/// A set of ±1 changes, `e` moving by `d`, that keeps every equation and
/// bound. With `mirror = Some((a, b))`, every cell of column `b` on the
/// cycle takes the cell of column `a` in its row along. With `through_shown`,
/// shown cells may be on the cycle (as if hidden), at a cost: the search
/// then finds the cheapest such cycle (Dijkstra over the equations).
#[allow(clippy::too_many_arguments)]
fn find_cycle(
    grid: &Grid,
    s: &Structure,
    marks: &[Mark],
    t: u32,
    e: usize,
    d: i64,
    mirror: Option<(usize, usize)>,
    through_shown: bool,
) -> Option<Cycle> {
    let t = i64::from(t);
    let base: Vec<i64> = grid.values.iter().map(|&v| v as i64).collect();
    let cols = grid.cols;
    let mark = |i: usize| match marks[i] {
        Mark::Shown if through_shown => Mark::Hidden,
        m => m,
    };
    let bound_ok = |i: usize, delta: i64| {
        let v = base[i] + delta;
        match mark(i) {
            Mark::Shown => delta == 0,
            Mark::Below => (0..t).contains(&v),
            Mark::Hidden => v >= t,
        }
    };
    let coupled_ok = |i: usize, delta: i64| {
        let v = base[i] + delta;
        let (r, c) = (i / cols, i % cols);
        grid.le.iter().all(|&(a, b)| {
            if c == a {
                v <= base[r * cols + b]
            } else if c == b {
                base[r * cols + a] <= v
            } else {
                true
            }
        })
    };
    let step_ok = |i: usize, delta: i64| match mirror {
        Some((a, b)) if i % cols == b => bound_ok(i, delta) && bound_ok(i - b + a, delta),
        Some((a, _)) if i % cols == a => false,
        _ => bound_ok(i, delta) && coupled_ok(i, delta),
    };
    let cost_of = |i: usize| -> u64 {
        let mut cells = vec![i];
        if let Some((a, b)) = mirror
            && i % cols == b
        {
            cells.push(i - b + a);
        }
        cells
            .into_iter()
            .filter(|&c| marks[c] == Mark::Shown)
            .map(|c| 1_000 * (1 + 3 * u64::from(grid.is_total_cell(c))) + grid.values[c])
            .sum()
    };
    let finish = |mut changes: Vec<(usize, i64)>| -> Option<Cycle> {
        if let Some((a, b)) = mirror {
            let mirrored: Vec<(usize, i64)> = changes
                .iter()
                .filter(|(i, _)| i % cols == b)
                .map(|&(i, delta)| (i - b + a, delta))
                .collect();
            changes.extend(mirrored);
        }
        let to_hide: Vec<usize> = changes
            .iter()
            .map(|&(i, _)| i)
            .filter(|&i| marks[i] == Mark::Shown)
            .collect();
        let mut hidden = marks.to_vec();
        for &i in &to_hide {
            hidden[i] = Mark::Hidden;
        }
        let cost = to_hide
            .iter()
            .map(|&c| 1_000 * (1 + 3 * u64::from(grid.is_total_cell(c))) + grid.values[c])
            .sum();
        verify(grid, s, &hidden, t, &base, &changes).then_some(Cycle { to_hide, cost })
    };
    if !step_ok(e, d) {
        return None;
    }
    let [a, b] = s.ends[e];
    let (start, target) = if a.node != s.free { (a, b) } else { (b, a) };
    if start.node == s.free {
        // In no equation: any other value in its range is consistent.
        return finish(vec![(e, d)]);
    }
    // The imbalance the last cell must leave at the target node.
    let need_at_target = -(target.coef * d);
    let nodes = s.free + 1;
    let idx = |node: usize, imb: i64| node * 2 + usize::from(imb > 0);
    // Per state (node, imbalance): best cost, and the state it came from
    // with the step taken.
    let mut best = vec![u64::MAX; nodes * 2];
    let mut parent: Vec<Option<Step>> = vec![None; nodes * 2];
    let start_state = (start.node, start.coef * d);
    let start_cost = cost_of(e);
    best[idx(start_state.0, start_state.1)] = start_cost;
    let mut heap = BinaryHeap::from([Reverse((start_cost, start_state.0, start_state.1))]);
    let mut found: Option<Cycle> = None;
    while let Some(Reverse((cost, k, imb))) = heap.pop() {
        if cost > best[idx(k, imb)] || found.as_ref().is_some_and(|f| f.cost <= cost) {
            continue;
        }
        for &h in &s.members[k] {
            if h == e || (!through_shown && marks[h] == Mark::Shown) {
                continue;
            }
            let [h0, h1] = s.ends[h];
            let (here, other) = if h0.node == k { (h0, h1) } else { (h1, h0) };
            let delta = -imb * here.coef;
            if !step_ok(h, delta) {
                continue;
            }
            let next_cost = cost + cost_of(h);
            let arriving = other.coef * delta;
            if other.node == target.node {
                if target.node == s.free || arriving == need_at_target {
                    let mut changes = vec![(e, d), (h, delta)];
                    let mut state = (k, imb);
                    while let Some((prev, cell, cd)) = parent[idx(state.0, state.1)] {
                        changes.push((cell, cd));
                        state = prev;
                    }
                    if let Some(c) = finish(changes)
                        && found.as_ref().is_none_or(|f| c.cost < f.cost)
                    {
                        if !through_shown {
                            return Some(c);
                        }
                        found = Some(c);
                    }
                }
                continue;
            }
            if other.node == s.free {
                continue;
            }
            let j = idx(other.node, arriving);
            if next_cost < best[j] {
                best[j] = next_cost;
                parent[j] = Some(((k, imb), h, delta));
                heap.push(Reverse((next_cost, other.node, arriving)));
            }
        }
    }
    found
}

/// Re-check a set of changes against every equation and bound.
fn verify(
    grid: &Grid,
    s: &Structure,
    marks: &[Mark],
    t: i64,
    base: &[i64],
    changes: &[(usize, i64)],
) -> bool {
    let mut new = base.to_vec();
    let mut touched = BTreeSet::new();
    for &(i, d) in changes {
        if !touched.insert(i) {
            return false;
        }
        new[i] += d;
    }
    let equations_hold = (0..s.free).all(|node| {
        s.members[node]
            .iter()
            .map(|&i| {
                let end = if s.ends[i][0].node == node {
                    s.ends[i][0]
                } else {
                    s.ends[i][1]
                };
                end.coef * (new[i] - base[i])
            })
            .sum::<i64>()
            == 0
    });
    equations_hold && (0..new.len()).all(|i| grid.within(i, &new, marks, t))
}

/// Suppress tables that share their totals row: a totals cell hidden in one
/// is hidden in all. All grids must have the same shape of totals row.
pub(crate) fn suppress_together(grids: &[Grid], t: u32) -> Vec<Vec<Mark>> {
    // Columns of the totals row hidden in some table.
    let mut forced: BTreeSet<usize> = BTreeSet::new();
    loop {
        let all: Vec<Vec<Mark>> = grids
            .iter()
            .map(|g| {
                let total_row = (g.rows - 1) * g.cols;
                let cells: Vec<usize> = forced.iter().map(|c| total_row + c).collect();
                suppress(g, t, &cells)
            })
            .collect();
        let mut grew = false;
        for (g, marks) in grids.iter().zip(&all) {
            let total_row = (g.rows - 1) * g.cols;
            for c in 0..g.cols {
                if marks[total_row + c] == Mark::Hidden && forced.insert(c) {
                    grew = true;
                }
            }
        }
        if !grew {
            return all;
        }
    }
}

#[cfg(test)]
mod tests;
