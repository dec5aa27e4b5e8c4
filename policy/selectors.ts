import { LabelSelector, LabelSelectorRequirement } from './kubernetes';

/**
 * Whether `selector` selects an object with `labels`, as the API server evaluates a `metav1.LabelSelector`:
 * every `matchLabels` pair and every `matchExpressions` requirement must hold. An empty selector (`{}`)
 * selects everything; an absent (`null`/`undefined`) one selects nothing.
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements
 */
export function selects(selector: LabelSelector | null | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === undefined || selector === null) {
    return false;
  }
  const pairs = Object.entries(selector.matchLabels ?? {});
  return pairs.every(([key, value]) => labels[key] === value) && (selector.matchExpressions ?? []).every((requirement) => holds(requirement, labels));
}

function holds(requirement: LabelSelectorRequirement, labels: Readonly<Record<string, string>>): boolean {
  const present = Object.prototype.hasOwnProperty.call(labels, requirement.key);
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
      return present && values.includes(labels[requirement.key]);
    case 'NotIn':
      return !present || !values.includes(labels[requirement.key]);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    default:
      // The API server refuses any other operator; a selector it would refuse selects nothing here.
      return false;
  }
}
