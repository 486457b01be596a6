export function ClientCard({ id }: { id: string; initialTab: number }) {
  return <p>{id}</p>;
}
