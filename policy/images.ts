import { ImageRef } from '../lib/core/image';
import { PolicyObject, violation } from './kubernetes';
import { Workload, containersOf, workloadsOf } from './workloads';

/** Each container image of the pods `object` makes, with where it is and its parsed reference (or the parse error). */
function imagesOf(workload: Workload): { readonly where: string; readonly image?: string; readonly ref?: ImageRef; readonly error?: string }[] {
  return containersOf(workload.podSpec).map(({ where, container }) => {
    const at = `${workload.where} ${where}`;
    if (container.image === undefined || container.image === '') {
      return { where: at };
    }
    try {
      return { where: at, image: container.image, ref: ImageRef.parse(container.image, `${at} image`) };
    } catch (error) {
      return { where: at, image: container.image, error: (error as Error).message };
    }
  });
}

/**
 * Images that do not name one build: untagged (which means `latest`), tagged `:latest` without a digest, or
 * not a valid reference. A floating image changes under a running Deployment whenever a node pulls it, so
 * two pods of one color could run different code and a rollback would not restore what ran before.
 * A container without an image is reported for pod templates; in an operator's custom resource it means the
 * operator's pinned default and is not checked.
 */
export function floatingImageViolations(object: PolicyObject): string[] {
  return workloadsOf(object).flatMap((workload) =>
    imagesOf(workload).flatMap(({ where, image, ref, error }) => {
      if (image === undefined) {
        return workload.imageRequired
          ? [violation(where, 'has no image', 'none', 'set the image with a tag or digest, e.g. "registry.example.com/acme/web:1.4.2"')]
          : [];
      }
      if (error !== undefined) {
        return [error];
      }
      if (ref?.isLatest === true) {
        return [
          violation(
            `${where} image`,
            'floats on :latest',
            `"${image}"`,
            `pin a release tag or a digest, e.g. "${ref.repository}:1.4.2" or "${ref.repository}@sha256:<digest>"`,
          ),
        ];
      }
      return [];
    }),
  );
}

/**
 * Images pinned by tag only (advisory): a tag can be moved to another build by whoever can push to the
 * registry; a digest cannot. Images that fail {@link floatingImageViolations} are reported there, not here.
 */
export function unpinnedDigestViolations(object: PolicyObject): string[] {
  return workloadsOf(object).flatMap((workload) =>
    imagesOf(workload).flatMap(({ where, image, ref }) =>
      ref !== undefined && ref.digest === undefined && !ref.isLatest
        ? [
            violation(
              `${where} image`,
              'is pinned by tag only',
              `"${image}"`,
              `append the digest of the build, e.g. "${ref.toString()}@sha256:<digest>", so the tag cannot be moved under a running workload`,
            ),
          ]
        : [],
    ),
  );
}
