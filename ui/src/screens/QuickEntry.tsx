export function QuickEntry({ onClose }: { onClose(): void }) {
  return <button onClick={onClose}>x</button>;
}
