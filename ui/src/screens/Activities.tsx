export function Activities() {
  return <p />;
}
