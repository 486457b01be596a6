//! Word lists for synthetic data. Last names are invented by joining Finnish-looking
//! parts, so no generated person is a real one; first names are common given names.

use rand::Rng;
use rand::seq::IndexedRandom;

const FIRST_FEMALE: &[&str] = &[
    "Aino", "Emma", "Ella", "Aada", "Venla", "Iida", "Siiri", "Helmi", "Lilja", "Linnea", "Veera",
    "Pihla", "Nelli", "Oona", "Sofia", "Elli", "Enni", "Milla", "Saana", "Jenna",
];
const FIRST_MALE: &[&str] = &[
    "Eino", "Leo", "Väinö", "Onni", "Elias", "Oliver", "Eetu", "Aaro", "Niilo", "Veeti", "Joona",
    "Lauri", "Otto", "Rasmus", "Topias", "Miro", "Aleksi", "Juho", "Santeri", "Valtteri",
];
const FIRST_OTHER: &[&str] = &[
    "Alex", "Kim", "Robin", "Noa", "Sasha", "Rene", "Toni", "Niko",
];

const LAST_HEAD: &[&str] = &[
    "Kivi", "Leppä", "Koivu", "Paju", "Tammi", "Kuusi", "Haapa", "Pihla", "Rasi", "Vuo", "Sarvi",
    "Hiekka", "Kallio", "Harju", "Laakso", "Louhi", "Korpi", "Vaara", "Routa", "Kaisla", "Joki",
    "Ruoho", "Hongi", "Sammal",
];
const LAST_TAIL: &[&str] = &[
    "oja", "salo", "koski", "mäki", "lahti", "niemi", "vaara", "aho", "rinne", "harju", "nen",
    "kangas", "saari", "lampi", "suo", "virta",
];

const STREETS: &[&str] = &[
    "Kuusitie",
    "Rantakatu",
    "Myllypolku",
    "Koulukatu",
    "Asemakatu",
    "Pajukuja",
    "Tervatie",
    "Lähdekatu",
];
const TOWNS: &[&str] = &[
    "Tampere",
    "Oulu",
    "Jyväskylä",
    "Kuopio",
    "Lahti",
    "Vaasa",
    "Pori",
    "Joensuu",
];

/// A first name for the given gender code ("male", "female", else other).
pub fn first_name(rng: &mut impl Rng, gender: &str) -> &'static str {
    let list = match gender {
        "male" => FIRST_MALE,
        "female" => FIRST_FEMALE,
        _ => FIRST_OTHER,
    };
    pick(rng, list)
}

/// An invented, Finnish-looking last name.
pub fn last_name(rng: &mut impl Rng) -> String {
    let head = pick(rng, LAST_HEAD);
    let tail = pick(rng, LAST_TAIL);
    format!("{head}{tail}")
}

/// An invented street address.
pub fn address(rng: &mut impl Rng) -> String {
    let street = pick(rng, STREETS);
    let number = rng.random_range(1..80);
    let town = pick(rng, TOWNS);
    format!("{street} {number}, {town}")
}

/// A phone number in a range reserved for fiction-like use (never dialled).
pub fn phone(rng: &mut impl Rng) -> String {
    format!("040 000 {:04}", rng.random_range(0..10_000))
}

/// An e-mail address under the reserved `.invalid` top-level domain.
pub fn email(first: &str, last: &str) -> String {
    let clean = |s: &str| {
        s.to_lowercase()
            .replace('ä', "a")
            .replace('ö', "o")
            .replace('å', "a")
    };
    format!("{}.{}@example.invalid", clean(first), clean(last))
}

const MEMO_OPENINGS: &[&str] = &[
    "Tavattiin kauppakeskuksen kahvilassa.",
    "Soitin nuorelle sovitusti.",
    "Nuori tuli tapaamiseen toimistolle.",
    "Tapasimme kirjaston nuortenosastolla.",
    "Viestittelimme pikaviestimellä illalla.",
    "Kävimme yhdessä kävelyllä puistossa.",
    "Nuori ei saapunut sovittuun tapaamiseen, soitin perään.",
    "Tapaaminen koululla opinto-ohjaajan kanssa.",
];
const MEMO_TOPICS: &[&str] = &[
    "Puhuttiin hakemisesta ammatilliseen koulutukseen.",
    "Käytiin läpi toimeentulotukihakemusta.",
    "Selvitettiin asuntoasiaa ja vuokravakuutta.",
    "Mietittiin kesätyöpaikan hakemista.",
    "Nuori kertoi unirytmin parantuneen.",
    "Sovittiin yhteydenotosta työpajalle.",
    "Keskusteltiin harrastusmahdollisuuksista lähialueella.",
    "Tehtiin ajanvaraus terveysasemalle.",
    "Käytiin läpi opintotuen hakemista.",
    "Nuori haluaa kokeilla kuntouttavaa työtoimintaa.",
];
const MEMO_CLOSINGS: &[&str] = &[
    "Seuraava tapaaminen ensi viikolla.",
    "Nuori lupasi ilmoittaa, miten haku etenee.",
    "Jatketaan puhelimitse.",
    "Tavataan uudelleen kahden viikon päästä.",
    "",
];
const ACTIVITY_TEXTS: &[&str] = &[
    "Kierrettiin keskustan ja aseman seutua iltavuorossa.",
    "Chat-päivystys nuorille verkossa.",
    "Ryhmätapaaminen nuorisotilalla, aiheena arjen taidot.",
    "Koulutuspäivä yhteistyökumppaneiden kanssa.",
    "Jalkautuminen koulun välitunneille.",
    "Pelitapahtuma nuorisotalolla.",
];

/// A memo text of two or three sentences.
pub fn memo_text(rng: &mut impl Rng) -> String {
    let mut text = String::new();
    text.push_str(pick(rng, MEMO_OPENINGS));
    text.push(' ');
    text.push_str(pick(rng, MEMO_TOPICS));
    let closing = pick(rng, MEMO_CLOSINGS);
    if !closing.is_empty() {
        text.push(' ');
        text.push_str(closing);
    }
    text
}

/// A short activity memo description.
pub fn activity_text(rng: &mut impl Rng) -> &'static str {
    pick(rng, ACTIVITY_TEXTS)
}

/// Every word that can appear in a generated memo text (for no-plaintext scans).
pub fn memo_words() -> impl Iterator<Item = &'static str> {
    MEMO_OPENINGS
        .iter()
        .chain(MEMO_TOPICS)
        .chain(MEMO_CLOSINGS)
        .flat_map(|s| s.split_whitespace())
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| w.chars().count() >= 9)
}

fn pick<'a>(rng: &mut impl Rng, list: &'a [&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn names_are_deterministic_per_seed() {
        let mut a = ChaCha8Rng::seed_from_u64(5);
        let mut b = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..50 {
            assert_eq!(last_name(&mut a), last_name(&mut b));
            assert_eq!(memo_text(&mut a), memo_text(&mut b));
        }
    }

    #[test]
    fn memo_words_are_long_words() {
        let words: Vec<_> = memo_words().collect();
        assert!(words.len() > 20);
        assert!(words.iter().all(|w| w.chars().count() >= 9));
        assert!(words.contains(&"kauppakeskuksen"));
    }
}
