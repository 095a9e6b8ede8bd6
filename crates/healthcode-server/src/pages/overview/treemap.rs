//! A squarified treemap's layout (Bruls, Huizing and van Wijk, 2000): rectangles whose
//! areas are proportional to the values, tiling the bounds, kept as near square as the
//! greedy rows allow. Pure: the dashboard draws the rectangles (`charts::treemap`).

/// A rectangle: its top-left corner, width and height.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn area(&self) -> f64 {
        self.w * self.h
    }
}

/// One rectangle per value, in the order of `values`, tiling `bounds` with areas
/// proportional to the values; `None` for a value of zero (and for every value when they
/// are all zero). The same values always give the same rectangles: the larger values are
/// placed first, equal values in their order.
pub(crate) fn squarify(values: &[u64], bounds: Rect) -> Vec<Option<Rect>> {
    let mut out = vec![None; values.len()];
    let total: u64 = values.iter().sum();
    if total == 0 || bounds.w <= 0.0 || bounds.h <= 0.0 {
        return out;
    }
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| values[i] > 0).collect();
    order.sort_by(|&a, &b| values[b].cmp(&values[a]).then(a.cmp(&b)));
    let scale = bounds.area() / total as f64;
    let areas: Vec<(usize, f64)> = order.into_iter().map(|i| (i, values[i] as f64 * scale)).collect();

    let mut free = bounds;
    let mut start = 0;
    while start < areas.len() {
        // Grow the row while that does not make its worst aspect ratio worse.
        let side = free.w.min(free.h);
        let mut end = start + 1;
        while end < areas.len() && worst(&areas[start..=end], side) <= worst(&areas[start..end], side) {
            end += 1;
        }
        let last_row = end == areas.len();
        free = lay_row(&areas[start..end], free, last_row, &mut out);
        start = end;
    }
    out
}

/// The worst aspect ratio (≥ 1) of a row of areas laid along a side of length `side`.
fn worst(row: &[(usize, f64)], side: f64) -> f64 {
    let sum: f64 = row.iter().map(|(_, a)| a).sum();
    let (min, max) = row.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), (_, a)| (lo.min(*a), hi.max(*a)));
    let (side2, sum2) = (side * side, sum * sum);
    (side2 * max / sum2).max(sum2 / (side2 * min))
}

/// Lays `row` along the shorter side of `free` (a column at its left when it is wider
/// than tall, else a row at its top) and returns what is left. The last rectangle of a
/// row ends exactly at the edge, and the last row fills what is left, so that rounding
/// leaves no gap and no overlap.
fn lay_row(row: &[(usize, f64)], free: Rect, last_row: bool, out: &mut [Option<Rect>]) -> Rect {
    let sum: f64 = row.iter().map(|(_, a)| a).sum();
    let wide = free.w >= free.h;
    let thickness = if last_row {
        if wide {
            free.w
        } else {
            free.h
        }
    } else if wide {
        (sum / free.h).min(free.w)
    } else {
        (sum / free.w).min(free.h)
    };
    let length = if wide { free.h } else { free.w };
    let mut offset = 0.0;
    for (k, &(i, a)) in row.iter().enumerate() {
        let along = if k + 1 == row.len() { length - offset } else { (a / sum * length).min(length - offset) };
        out[i] = Some(if wide {
            Rect { x: free.x, y: free.y + offset, w: thickness, h: along }
        } else {
            Rect { x: free.x + offset, y: free.y, w: along, h: thickness }
        });
        offset += along;
    }
    if wide {
        Rect { x: free.x + thickness, y: free.y, w: free.w - thickness, h: free.h }
    } else {
        Rect { x: free.x, y: free.y + thickness, w: free.w, h: free.h - thickness }
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed step is the test failing.
    #![allow(clippy::unwrap_used)]

    use super::*;

    const BOUNDS: Rect = Rect { x: 10.0, y: 20.0, w: 360.0, h: 240.0 };
    const EPS: f64 = 1e-6;

    fn laid(values: &[u64]) -> Vec<Rect> {
        squarify(values, BOUNDS).into_iter().flatten().collect()
    }

    fn overlap(a: &Rect, b: &Rect) -> f64 {
        let w = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
        let h = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
        w.max(0.0) * h.max(0.0)
    }

    fn samples() -> Vec<Vec<u64>> {
        vec![
            vec![6, 6, 4, 3, 2, 2, 1],
            vec![1],
            vec![1_000_000, 1, 1, 1],
            vec![5, 5, 5, 5, 5, 5, 5, 5, 5],
            (1..=90).map(|i| (i * 7919) % 1000 + 1).collect(),
            vec![3, 0, 7, 0, 0, 12],
        ]
    }

    #[test]
    fn rectangles_lie_inside_the_bounds() {
        for values in samples() {
            for r in laid(&values) {
                assert!(r.w >= 0.0 && r.h >= 0.0, "{r:?}");
                assert!(r.x >= BOUNDS.x - EPS && r.y >= BOUNDS.y - EPS, "{values:?}: {r:?}");
                assert!(r.x + r.w <= BOUNDS.x + BOUNDS.w + EPS, "{values:?}: {r:?}");
                assert!(r.y + r.h <= BOUNDS.y + BOUNDS.h + EPS, "{values:?}: {r:?}");
            }
        }
    }

    #[test]
    fn areas_are_proportional_to_the_values_and_fill_the_bounds() {
        for values in samples() {
            let total: u64 = values.iter().sum();
            let rects = squarify(&values, BOUNDS);
            for (v, r) in values.iter().zip(&rects) {
                let Some(r) = r else { continue };
                let expected = BOUNDS.area() * *v as f64 / total as f64;
                assert!((r.area() - expected).abs() <= 1e-6 * BOUNDS.area(), "{values:?}: {v} → {r:?}");
            }
            let covered: f64 = rects.iter().flatten().map(Rect::area).sum();
            assert!((covered - BOUNDS.area()).abs() < 1e-6, "{values:?}: {covered}");
        }
    }

    #[test]
    fn no_two_rectangles_overlap() {
        for values in samples() {
            let rects = laid(&values);
            for (i, a) in rects.iter().enumerate() {
                for b in &rects[i + 1..] {
                    assert!(overlap(a, b) < 1e-6, "{values:?}: {a:?} and {b:?}");
                }
            }
        }
    }

    #[test]
    fn zero_values_get_no_rectangle() {
        let rects = squarify(&[3, 0, 7, 0, 0, 12], BOUNDS);
        let placed: Vec<bool> = rects.iter().map(Option::is_some).collect();
        assert_eq!(placed, [true, false, true, false, false, true]);
        assert_eq!(squarify(&[0, 0], BOUNDS), [None, None]);
        assert_eq!(squarify(&[], BOUNDS), []);
        assert_eq!(squarify(&[4], Rect { w: 0.0, ..BOUNDS }), [None]);
        assert_eq!(squarify(&[4], BOUNDS), [Some(BOUNDS)], "one value fills the bounds");
    }

    #[test]
    fn the_same_values_give_the_same_layout() {
        for values in samples() {
            assert_eq!(squarify(&values, BOUNDS), squarify(&values, BOUNDS));
        }
        // Equal values keep their order: the first is placed first (top left).
        let rects = laid(&[5, 5]);
        assert!(rects[0].x <= rects[1].x && rects[0].y <= rects[1].y, "{rects:?}");
    }

    #[test]
    fn rectangles_stay_near_square() {
        // The paper's example: six-by-four, values 6 6 4 3 2 2 1.
        let example = squarify(&[6, 6, 4, 3, 2, 2, 1], Rect { x: 0.0, y: 0.0, w: 6.0, h: 4.0 });
        let worst = example.iter().flatten().map(|r| r.w.max(r.h) / r.w.min(r.h)).fold(0.0, f64::max);
        assert!(worst < 3.0, "{example:?}");
        let even = laid(&[5; 9]);
        let worst = even.iter().map(|r| r.w.max(r.h) / r.w.min(r.h)).fold(0.0, f64::max);
        assert!(worst < 2.0, "nine equal values in a 3:2 box: {even:?}");
    }
}
