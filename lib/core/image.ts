/**
 * A container image reference that names exactly one build: a tag, a digest, or both.
 *
 * Accepts `[registry[:port]/]repository[:tag][@sha256:<64 hex>]`.
 * @see https://github.com/distribution/reference/blob/main/reference.go
 */
export class ImageRef {
  /**
   * Parses and validates an image reference.
   * @param value the reference, e.g. `registry.example.com/acme/web:1.4.2`
   * @param key what the value is, used in error messages, e.g. `blue.image`
   */
  public static parse(value: string, key = 'image'): ImageRef {
    const ref = value.trim();
    if (ref === '') {
      throw new Error(`${key}: must not be empty, got ""; give an image with a tag, e.g. "registry.example.com/acme/web:1.4.2"`);
    }
    const match = IMAGE_PATTERN.exec(ref);
    if (!match) {
      throw new Error(
        `${key}: is not a valid image reference, got "${value}"; ` +
          'use [registry/]repository:tag or repository@sha256:<digest>, lowercase repository',
      );
    }
    const [, repository, tag, digest] = match;
    if (tag === undefined && digest === undefined) {
      throw new Error(`${key}: has no tag or digest, got "${value}"; pin the build, e.g. "${repository}:1.4.2" or "${repository}@sha256:<digest>"`);
    }
    return new ImageRef(repository, tag, digest);
  }

  private constructor(
    /** Registry and repository, without tag or digest. */
    public readonly repository: string,
    /** The tag, when given. */
    public readonly tag: string | undefined,
    /** The `sha256:` digest, when given. */
    public readonly digest: string | undefined,
  ) {}

  /** True when the image floats: tagged `latest` and not pinned by digest. */
  public get isLatest(): boolean {
    return this.tag === 'latest' && this.digest === undefined;
  }

  /**
   * A value for the `app.kubernetes.io/version` label: the tag, else the first 12 hex digits of the digest.
   * Label values are at most 63 characters.
   */
  public get version(): string {
    const value = this.tag ?? (this.digest as string).slice('sha256:'.length, 'sha256:'.length + 12);
    return value.slice(0, 63).replace(/[^A-Za-z0-9]+$/, '');
  }

  /** The full reference as Kubernetes expects it in a container spec. */
  public toString(): string {
    return `${this.repository}${this.tag !== undefined ? `:${this.tag}` : ''}${this.digest !== undefined ? `@${this.digest}` : ''}`;
  }
}

const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?';
const IMAGE_PATTERN = new RegExp(`^(${DOMAIN}${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`);
