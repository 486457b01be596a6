//! The privacy notice (tietosuojaseloste / dataskyddsbeskrivning): the
//! register description, written from the organisation's real settings —
//! what is collected, how long it is kept, where it is held and how it is
//! protected, who may see it — for the organisation to complete (the places
//! marked `[…]`) and publish.
//!
//! Anyone with a login may read it (it is meant to be public); nothing about
//! any client is in it.

use crate::{ExportLang, Session};

impl Session {
    /// The privacy notice in Finnish or Swedish, as plain text (Markdown).
    pub fn privacy_notice(&self, lang: ExportLang) -> String {
        let s = &self.org.settings;
        let retention = s
            .retention_years
            .min(polku_core::model::Settings::MAX_RETENTION_YEARS);
        let lease = s.offline_lease_days;
        let idle = s.get(polku_core::model::SettingKey::IdleLockMinutes);
        let threshold = s.small_cell_threshold();
        let mut units: Vec<&str> = self
            .org
            .units
            .values()
            .filter(|u| u.active)
            .map(|u| u.name.as_str())
            .collect();
        units.sort_unstable();
        let units = units.join(", ");
        let org = self.org.name.as_str();
        match lang {
            ExportLang::Fi => format!(
                "# Tietosuojaseloste: etsivän nuorisotyön asiakasrekisteri\n\n\
                 EU:n yleinen tietosuoja-asetus (2016/679), artiklat 13 ja 14.\n\n\
                 ## 1. Rekisterinpitäjä\n\n{org}\n\n[Täydennä: osoite, Y-tunnus, yhteyshenkilö ja tietosuojavastaavan yhteystiedot.]\n\n\
                 ## 2. Rekisterin nimi ja käyttötarkoitus\n\n\
                 Etsivän nuorisotyön asiakasrekisteri (Polku). Tietoja käsitellään etsivän nuorisotyön \
                 tehtävien hoitamiseksi nuorisolain (1285/2016) mukaisesti: nuoren tavoittaminen, \
                 tuki ja ohjaus palveluihin, sekä nimettömät tilastot valtakunnalliseen keruuseen.\n\n\
                 Yksiköt: {units}.\n\n\
                 ## 3. Käsittelyn oikeusperuste\n\n[Täydennä: esim. lakisääteinen tehtävä, nuorisolaki ja tietosuoja-asetuksen 6 artikla.]\n\n\
                 ## 4. Mitä tietoja käsitellään\n\n\
                 - Perustiedot: nimi, syntymäaika, sukupuoli, äidinkieli, yhteystiedot, henkilötunnus jos annettu.\n\
                 - Taustatiedot ja tilannetiedot: koulutus, työ, toimeentulo, asuminen, terveys ja perhe siltä osin kuin nuori kertoo.\n\
                 - Asiakkuuden jaksot ja toimenpiteet, tavoitteet ja sijoittuminen.\n\
                 - Muistiot, liitteet, ilmoitukset (nuorisolaki), suostumukset ja tietojen luovutukset.\n\
                 - Lyhyet kontaktit ilman nimeä tai muuta tunnistetta (vain päivä, kanava, sukupuoli ja ikäryhmä jos tiedossa, aihe).\n\
                 - Käyttöloki: kuka katsoi tai muutti mitä tietoa ja milloin.\n\n\
                 ## 5. Tietolähteet\n\nNuori itse, nuoren suostumuksella muut tahot, sekä nuorisolain mukaiset ilmoitukset.\n\n\
                 ## 6. Säilytysaika\n\n\
                 Asiakkaan tiedot säilytetään asiakkuuden viimeisen jakson päättymisvuoden jälkeen vielä \
                 {retention} kalenterivuoden ajan (vuoden loppuun); sen jälkeen ne poistetaan kaikilta \
                 laitteilta ja jäljelle jäävät vain nimettömät tilastotiedot. Jos nuori kieltäytyy palvelusta, \
                 tiedot poistetaan heti palvelutarpeen arvioinnin jälkeen.\n\n\
                 ## 7. Tietojen luovutukset ja siirrot\n\n\
                 Tietoja luovutetaan vain laissa säädetyin perustein tai nuoren suostumuksella; jokainen \
                 luovutus kirjataan. Tietoja ei siirretä EU:n tai ETA:n ulkopuolelle eikä pilvipalveluun.\n\n\
                 ## 8. Missä tiedot ovat ja miten ne suojataan\n\n\
                 - Tiedot ovat työntekijöiden kannettavissa tietokoneissa ja organisaation omassa keskuskoneessa; ne synkronoidaan suoraan niiden välillä salattuna.\n\
                 - Kaikki henkilötiedot on salattu levyllä (age, XChaCha20-Poly1305); avain avautuu vain käyttäjän salasanalla (argon2id).\n\
                 - Jokainen työntekijä näkee vain oman yksikkönsä ja roolinsa mukaiset tiedot.\n\
                 - Sovellus lukittuu {idle} minuutin käyttämättömyyden jälkeen; laite, joka ei ole ollut yhteydessä keskuskoneeseen {lease} päivään, vaatii uuden kirjautumisen.\n\
                 - Kadonneen laitteen oikeudet voidaan perua, jolloin sen tiedot poistuvat seuraavalla yhteydellä.\n\
                 - Jokainen katselu ja muutos kirjataan allekirjoitettuun käyttölokiin.\n\
                 - Tilastoissa alle {threshold} henkilön solut piilotetaan.\n\n\
                 ## 9. Rekisteröidyn oikeudet\n\n\
                 Oikeus tarkastaa omat tietonsa (vastaus 14 päivässä), oikaista virheelliset tiedot, \
                 vaatia käsittelyn rajoittamista ja tietojen poistamista lain sallimissa rajoissa, sekä tehdä \
                 valitus tietosuojavaltuutetun toimistolle.\n\n[Täydennä: miten pyyntö tehdään.]\n"
            ),
            ExportLang::Sv => format!(
                "# Dataskyddsbeskrivning: klientregister för uppsökande ungdomsarbete\n\n\
                 EU:s allmänna dataskyddsförordning (2016/679), artiklarna 13 och 14.\n\n\
                 ## 1. Personuppgiftsansvarig\n\n{org}\n\n[Komplettera: adress, FO-nummer, kontaktperson och dataskyddsombudets kontaktuppgifter.]\n\n\
                 ## 2. Registrets namn och ändamål\n\n\
                 Klientregister för uppsökande ungdomsarbete (Polku). Uppgifterna behandlas för att sköta \
                 det uppsökande ungdomsarbetets uppgifter enligt ungdomslagen (1285/2016): att nå den unga, \
                 stöd och vägledning till tjänster, samt anonym statistik för den nationella insamlingen.\n\n\
                 Enheter: {units}.\n\n\
                 ## 3. Rättslig grund för behandlingen\n\n[Komplettera: t.ex. lagstadgad uppgift, ungdomslagen och artikel 6 i dataskyddsförordningen.]\n\n\
                 ## 4. Vilka uppgifter behandlas\n\n\
                 - Grunduppgifter: namn, födelsedatum, kön, modersmål, kontaktuppgifter, personbeteckning om den getts.\n\
                 - Bakgrunds- och situationsuppgifter: utbildning, arbete, försörjning, boende, hälsa och familj i den mån den unga berättar.\n\
                 - Klientskapets perioder och åtgärder, mål och placering.\n\
                 - Anteckningar, bilagor, anmälningar (ungdomslagen), samtycken och utlämnanden av uppgifter.\n\
                 - Korta kontakter utan namn eller annan identifierare (endast dag, kanal, kön och åldersgrupp om kända, ämne).\n\
                 - Användningslogg: vem läste eller ändrade vilken uppgift och när.\n\n\
                 ## 5. Uppgiftskällor\n\nDen unga själv, med den ungas samtycke andra aktörer, samt anmälningar enligt ungdomslagen.\n\n\
                 ## 6. Förvaringstid\n\n\
                 Klientens uppgifter förvaras ytterligare {retention} kalenderår (till årets slut) efter \
                 året då klientskapets sista period slutade; därefter raderas de från alla enheter \
                 och endast anonyma statistikuppgifter blir kvar. Om den unga avböjer tjänsten raderas \
                 uppgifterna genast efter att servicebehovet har bedömts.\n\n\
                 ## 7. Utlämnanden och överföringar\n\n\
                 Uppgifter lämnas ut endast med stöd av lag eller med den ungas samtycke; varje utlämnande \
                 registreras. Uppgifter överförs inte utanför EU eller EES och inte till molntjänster.\n\n\
                 ## 8. Var uppgifterna finns och hur de skyddas\n\n\
                 - Uppgifterna finns på arbetstagarnas bärbara datorer och på organisationens egen centraldator; de synkroniseras krypterade direkt mellan dem.\n\
                 - Alla personuppgifter är krypterade på disken (age, XChaCha20-Poly1305); nyckeln öppnas endast med användarens lösenord (argon2id).\n\
                 - Varje arbetstagare ser endast uppgifter enligt sin enhet och roll.\n\
                 - Programmet låses efter {idle} minuters inaktivitet; en enhet som inte har haft kontakt med centraldatorn på {lease} dagar kräver ny inloggning.\n\
                 - En förlorad enhets rättigheter kan återkallas, varvid dess uppgifter raderas vid nästa kontakt.\n\
                 - Varje läsning och ändring registreras i en signerad användningslogg.\n\
                 - I statistiken döljs celler med färre än {threshold} personer.\n\n\
                 ## 9. Den registrerades rättigheter\n\n\
                 Rätt att få insyn i sina uppgifter (svar inom 14 dagar), att få felaktiga uppgifter rättade, \
                 att kräva begränsning av behandlingen och radering inom lagens gränser, samt att lämna \
                 klagomål till dataombudsmannens byrå.\n\n[Komplettera: hur en begäran görs.]\n"
            ),
        }
    }
}
