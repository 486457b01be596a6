import { Heading, Paragraph } from "suomifi-ui-components";
import type { Lang, Me } from "../api/types";
import { LANGS, useI18n } from "../i18n";
import { useApp } from "../context";
import { fmtInstant } from "../format";
import { ChangePasswordForm } from "./ChangePassword";
import { Select } from "../components/ui";

export function Settings({ onMe }: { onMe(me: Me): void; onLogout(): void }) {
  const { t, lang, setLang } = useI18n();
  const { me, notify } = useApp();
  return (
    <section aria-labelledby="settings-title" className="narrow stack">
      <Heading variant="h1" id="settings-title">
        {t("settings.title")}
      </Heading>
      <Paragraph>{t("settings.me", { login: me.login, role: t(`role.${me.role}`) })}</Paragraph>
      {me.offline_lease_expires && <Paragraph>{t("settings.lease", { date: fmtInstant(me.offline_lease_expires) })}</Paragraph>}
      <Heading variant="h2">{t("settings.language")}</Heading>
      <Select
        label={t("settings.language")}
        hint={t("settings.language_intro")}
        value={lang}
        onChange={(v) => setLang(v as Lang)}
        data-testid="settings-language"
      >
        {LANGS.map((l) => (
          <option key={l} value={l} lang={l}>
            {t(`lang.${l}`)}
          </option>
        ))}
      </Select>
      <Heading variant="h2">{t("settings.password")}</Heading>
      <ChangePasswordForm
        onDone={(m) => {
          notify(t("change.done"));
          onMe(m);
        }}
      />
    </section>
  );
}
