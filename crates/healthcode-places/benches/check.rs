//! What checking an area costs: a listed code (the baseline: one lookup) against a code
//! that is no place, whose refusal looks up the nearest valid codes.

use criterion::{criterion_group, criterion_main, Criterion};
use healthcode_domain::AreaCode;
use healthcode_places::Divisions;

fn check(c: &mut Criterion) {
    let list = Divisions::embedded();
    let known = AreaCode::parse("330106002").expect("a code");
    let unknown_street = AreaCode::parse("330106001").expect("a code");
    let unknown_county = AreaCode::parse("339999").expect("a code");
    c.bench_function("check a listed street (baseline)", |b| b.iter(|| list.check_current(&known).is_ok()));
    c.bench_function("refuse an unknown street, with suggestions", |b| {
        b.iter(|| list.check_current(&unknown_street).is_err())
    });
    c.bench_function("refuse an unknown county, with suggestions", |b| {
        b.iter(|| list.check_current(&unknown_county).is_err())
    });
}

criterion_group!(benches, check);
criterion_main!(benches);
