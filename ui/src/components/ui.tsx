// Small shared pieces: a labelled native select (fast by keyboard: type to
// choose), a date field read as d.m.yyyy, an error alert in words.
import { useId, useState, type ReactNode, type SelectHTMLAttributes, forwardRef } from "react";
import { InlineAlert, TextInput } from "suomifi-ui-components";
import type { CodeListName, ErrorDto } from "../api/types";
import { useI18n } from "../i18n";
import { fmtDate, parseDate } from "../format";

interface SelectProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, "onChange"> {
  label: string;
  value: string;
  onChange(v: string): void;
  children: ReactNode;
  hint?: string;
  error?: string;
}

export const Select = forwardRef<HTMLSelectElement, SelectProps>(function Select(
  { label, value, onChange, children, hint, error, id, className, ...rest },
  ref,
) {
  const auto = useId();
  const sid = id ?? auto;
  const describedBy = [hint ? `${sid}-hint` : "", error ? `${sid}-err` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className={`field select-field ${className ?? ""}`}>
      <label htmlFor={sid} className="field-label">
        {label}
      </label>
      {hint && (
        <div id={`${sid}-hint`} className="field-hint">
          {hint}
        </div>
      )}
      <select
        id={sid}
        ref={ref}
        value={value}
        aria-describedby={describedBy}
        aria-invalid={error ? true : undefined}
        className={error ? "native-select error" : "native-select"}
        onChange={(e) => onChange(e.target.value)}
        {...rest}
      >
        {children}
      </select>
      {error && (
        <div id={`${sid}-err`} className="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
});

/** A select over a code list: retired codes are never offered, but a retired current value still shows its label. */
export const CodeSelect = forwardRef<
  HTMLSelectElement,
  Omit<SelectProps, "children"> & { list: CodeListName; allowEmpty?: boolean }
>(function CodeSelect({ list, allowEmpty = true, value, ...rest }, ref) {
  const { options, codes, t, lang } = useI18n();
  const opts = options(list);
  const current = (codes[list] ?? []).find((c) => c.code === value);
  return (
    <Select ref={ref} value={value} {...rest}>
      {allowEmpty && <option value="">{t("common.choose")}</option>}
      {current && current.retired && <option value={current.code}>{current.label[lang]}</option>}
      {opts.map((c) => (
        <option key={c.code} value={c.code}>
          {c.label[lang] ?? c.label.fi}
        </option>
      ))}
    </Select>
  );
});

/** A date typed as d.m.yyyy; the parent holds the text, `parseDate` reads it. */
export function DateField(props: {
  label: string;
  value: string;
  onChange(v: string): void;
  error?: string;
  testid?: string;
  optional?: boolean;
  id?: string;
}) {
  const { t } = useI18n();
  return (
    <TextInput
      id={props.id}
      labelText={`${props.label} (${t("common.date_hint")})`}
      fullWidth
      optionalText={props.optional ? t("common.optional") : undefined}
      value={props.value}
      onChange={(v) => props.onChange(String(v ?? ""))}
      status={props.error ? "error" : "default"}
      statusText={props.error}
      data-testid={props.testid}
      inputMode="numeric"
      autoComplete="off"
    />
  );
}

export function useDateText(iso: string | null | undefined) {
  return useState(fmtDate(iso ?? ""));
}

/** Checks a typed date: `ok` with the ISO value (or null when empty), else the message. */
export function readDate(text: string, t: (k: string) => string, required: boolean, requiredKey = "common.bad_date") {
  const v = parseDate(text);
  if (v === undefined) return { ok: false as const, error: t("common.bad_date") };
  if (v === null && required) return { ok: false as const, error: t(requiredKey) };
  return { ok: true as const, value: v };
}

export function ErrorAlert({ error, testid = "error" }: { error: ErrorDto | string | null; testid?: string }) {
  const { err } = useI18n();
  if (!error) return null;
  const text = typeof error === "string" ? error : err(error);
  return (
    <InlineAlert status="error" data-testid={testid} role="alert" className="error-alert">
      {text}
    </InlineAlert>
  );
}

export function Hidden() {
  const { t } = useI18n();
  return (
    <p className="hidden-by-rights" data-testid="hidden-by-rights">
      <strong>{t("common.hidden")}</strong> — {t("common.hidden_long")}
    </p>
  );
}

/** A form where Ctrl+S saves (submits) when the focus is inside it. */
export function Form({
  onSubmit,
  children,
  className,
  testid,
  label,
}: {
  onSubmit(): void;
  children: ReactNode;
  className?: string;
  testid?: string;
  label?: string;
}) {
  return (
    <form
      noValidate
      className={className ?? "stack"}
      data-testid={testid}
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
      onKeyDown={(e) => {
        if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
          e.preventDefault();
          e.stopPropagation();
          onSubmit();
        }
      }}
    >
      {children}
    </form>
  );
}
