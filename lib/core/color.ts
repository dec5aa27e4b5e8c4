/** The two deployment colors of a blue-green service. */
export type Color = 'blue' | 'green';

/** Both colors, in a fixed order so that rendered output never depends on which one is live. */
export const COLORS: readonly Color[] = ['blue', 'green'];

/** True when `value` names a color. */
export function isColor(value: unknown): value is Color {
  return value === 'blue' || value === 'green';
}

/** The color that is not `color`. */
export function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}
