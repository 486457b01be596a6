import { useId } from "react";
import { LANGS, useI18n } from "../i18n";
import type { Lang } from "../api/types";

/** The language switch of the header: three buttons, the current one pressed. */
export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  const id = useId();
  return (
    <div className="lang-switch" role="group" aria-labelledby={id}>
      <span id={id} className="visually-hidden">
        {t("header.language")}
      </span>
      {LANGS.map((l: Lang) => (
        <button
          key={l}
          type="button"
          lang={l}
          aria-pressed={lang === l}
          className={lang === l ? "lang-button current" : "lang-button"}
          onClick={() => setLang(l)}
          data-testid={`lang-${l}`}
        >
          {l.toUpperCase()}
          <span className="visually-hidden"> {t(`lang.${l}`)}</span>
        </button>
      ))}
    </div>
  );
}
