use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

#[test]
fn national_lists_parse() {
    let parsed = parse_national(NATIONAL_JSON).expect("national.json parses");
    assert_eq!(parsed.version, 1);
    for &list in CodeList::ALL {
        let codes = parsed.lists.get(&list).expect("every list is present");
        assert!(codes.len() >= 4, "{list} has too few codes");
        let mut seen = BTreeSet::new();
        for c in codes {
            assert!(seen.insert(&c.code), "duplicate code {} in {list}", c.code);
            assert!(!c.code.contains('/'), "'/' is reserved in stored keys");
            assert!(
                !c.labels.fi.is_empty() && !c.labels.sv.is_empty() && !c.labels.en.is_empty(),
                "missing label for {} in {list}",
                c.code
            );
        }
    }
    assert_eq!(
        national_codes(CodeList::Gender).len(),
        parsed.lists[&CodeList::Gender].len()
    );
}

#[test]
fn national_lookups_and_labels() {
    let set = CodeSet::national();
    let c = set.lookup(CodeList::MotherTongue, "se").expect("sámi");
    assert_eq!(c.label(Lang::Fi), "Saame");
    assert_eq!(c.label(Lang::Sv), "Samiska");
    assert_eq!(c.label(Lang::En), "Sámi");
    assert_eq!(
        set.label(CodeList::ActivityKind, "street_work", Lang::Fi),
        Ok("Katutyö")
    );
    // The Youth Act §11 sources are arrival routes and referral sources.
    for code in [
        "basic_education",
        "education_provider",
        "defence_forces",
        "civil_service",
        "employment_services",
        "social_services",
        "young_person",
        "family",
    ] {
        assert!(set.lookup(CodeList::ArrivalRoute, code).is_ok(), "{code}");
        assert!(set.lookup(CodeList::ReferralSource, code).is_ok(), "{code}");
    }
    assert_eq!(
        set.lookup(CodeList::Gender, "street_work"),
        Err(UnknownCode {
            list: CodeList::Gender,
            code: "street_work".into()
        })
    );
}

fn own(code: &str, fi: &str, parent: Option<&str>) -> OwnCode {
    OwnCode {
        code: code.into(),
        labels: Labels {
            fi: fi.into(),
            sv: String::new(),
            en: String::new(),
        },
        parent: parent.map(Into::into),
    }
}

fn org_set() -> CodeSet {
    let mut org = Organisation::new(crate::ids::OrgId::from_parts(1, [1; 10]), "Esimerkki ry");
    org.insert_own_code(
        CodeList::ArrivalRoute,
        own("ohjaamo", "Ohjaamo", Some("employment_services")),
    );
    org.insert_own_code(
        CodeList::ActivityKind,
        own("gaming_night", "Peli-ilta", None),
    );
    org.retire_code(CodeList::ArrivalRoute, "police");
    org.retire_code(CodeList::ActivityKind, "gaming_night");
    CodeSet::for_organisation(&org)
}

#[test]
fn own_codes_extend_the_national_lists() {
    let set = org_set();
    let c = set
        .lookup(CodeList::ArrivalRoute, "ohjaamo")
        .expect("own code");
    assert!(c.own);
    // Swedish and English fall back to Finnish when not given.
    assert_eq!(c.label(Lang::Sv), "Ohjaamo");
    assert!(
        set.offered(CodeList::ArrivalRoute)
            .any(|c| c.code == "ohjaamo")
    );
    assert_eq!(
        set.national_equivalent(CodeList::ArrivalRoute, "ohjaamo")
            .expect("known")
            .map(|c| c.code.as_str()),
        Some("employment_services")
    );
    assert_eq!(
        set.national_equivalent(CodeList::ActivityKind, "gaming_night"),
        Ok(None)
    );
    assert_eq!(
        set.national_equivalent(CodeList::ArrivalRoute, "family")
            .expect("known")
            .map(|c| c.code.as_str()),
        Some("family")
    );
    // Own codes are per list.
    assert!(set.lookup(CodeList::Outcome, "ohjaamo").is_err());
}

#[test]
fn retired_codes_resolve_but_are_not_offered() {
    let set = org_set();
    for (list, code) in [
        (CodeList::ArrivalRoute, "police"),
        (CodeList::ActivityKind, "gaming_night"),
    ] {
        assert!(set.lookup(list, code).is_ok(), "{code} still resolves");
        assert!(set.is_retired(list, code));
        assert!(
            !set.offered(list).any(|c| c.code == code),
            "{code} not offered"
        );
        assert!(set.all(list).any(|c| c.code == code));
        assert!(set.lookup_for_new(list, code).is_err());
    }
    assert!(set.lookup_for_new(CodeList::ArrivalRoute, "family").is_ok());
    assert_eq!(
        set.offered(CodeList::ArrivalRoute).count() + 1,
        set.all(CodeList::ArrivalRoute).count()
    );
}

#[test]
fn own_code_checks() {
    assert_eq!(
        CodeSet::check_own_code(CodeList::Gender, &own("male", "Mies", None)),
        Err(OwnCodeError::ClashesWithNational {
            list: CodeList::Gender,
            code: "male".into()
        })
    );
    assert_eq!(
        CodeSet::check_own_code(CodeList::Measure, &own("Iso Koodi", "x", None)),
        Err(OwnCodeError::InvalidCode)
    );
    assert_eq!(
        CodeSet::check_own_code(CodeList::Measure, &own("a/b", "x", None)),
        Err(OwnCodeError::InvalidCode)
    );
    assert_eq!(
        CodeSet::check_own_code(CodeList::Measure, &own("kesatyo", " ", None)),
        Err(OwnCodeError::MissingLabel)
    );
    assert_eq!(
        CodeSet::check_own_code(CodeList::Measure, &own("kesatyo", "Kesätyö", Some("nope"))),
        Err(OwnCodeError::UnknownParent {
            list: CodeList::Measure,
            parent: "nope".into()
        })
    );
    assert_eq!(
        CodeSet::check_own_code(
            CodeList::Measure,
            &own("kesatyo", "Kesätyö", Some("job_search"))
        ),
        Ok(())
    );
}

#[test]
fn an_own_code_shadowed_by_a_national_one_is_left_out() {
    let mut own_codes = BTreeMap::new();
    own_codes.insert(
        CodeList::Gender,
        BTreeMap::from([("male".to_owned(), own("male", "Oma mies", None))]),
    );
    let set = CodeSet::new(&own_codes, &BTreeMap::new());
    assert_eq!(set.label(CodeList::Gender, "male", Lang::Fi), Ok("Mies"));
    assert_eq!(set.shadowed(), &[(CodeList::Gender, "male".to_owned())]);
}

#[test]
fn age_groups() {
    let born = d(2006, 6, 15);
    assert_eq!(age_on(born, d(2022, 6, 14)), Some(15));
    assert_eq!(age_group_on(born, d(2022, 6, 14)), Some("0-15"));
    assert_eq!(age_group_on(born, d(2022, 6, 15)), Some("16-17"));
    assert_eq!(age_group_on(born, d(2024, 6, 15)), Some("18-20"));
    assert_eq!(age_group_on(born, d(2036, 6, 15)), Some("30-"));
    assert_eq!(age_group_on(born, d(2000, 1, 1)), None);
    let set = CodeSet::national();
    for age in [0, 15, 16, 17, 18, 20, 21, 24, 25, 29, 30, 99] {
        assert!(
            set.lookup(CodeList::AgeGroup, age_group_for_age(age))
                .is_ok()
        );
    }
}
