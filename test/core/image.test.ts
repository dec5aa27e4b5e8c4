import { describe, expect, it } from 'vitest';
import { ImageRef } from '../../lib';

describe('ImageRef', () => {
  it('parses a registry, repository and tag', () => {
    const image = ImageRef.parse('registry.example.com:5000/acme/web:1.4.2');
    expect(image.repository).toBe('registry.example.com:5000/acme/web');
    expect(image.tag).toBe('1.4.2');
    expect(image.digest).toBeUndefined();
    expect(image.toString()).toBe('registry.example.com:5000/acme/web:1.4.2');
  });

  it('accepts a digest without a tag and labels it with the digest prefix', () => {
    const digest = `sha256:${'a1'.repeat(32)}`;
    const image = ImageRef.parse(`acme/web@${digest}`);
    expect(image.digest).toBe(digest);
    expect(image.version).toBe('a1a1a1a1a1a1');
  });

  it('refuses an image without tag or digest', () => {
    expect(() => ImageRef.parse('acme/web', 'blue.image')).toThrow(
      'blue.image: has no tag or digest, got "acme/web"; pin the build, e.g. "acme/web:1.4.2" or "acme/web@sha256:<digest>"',
    );
  });

  it('refuses an empty reference', () => {
    expect(() => ImageRef.parse(' ', 'green.image')).toThrow('green.image: must not be empty, got ""');
  });

  it('refuses uppercase repositories and malformed digests', () => {
    expect(() => ImageRef.parse('Acme/Web:1', 'image')).toThrow('image: is not a valid image reference, got "Acme/Web:1"');
    expect(() => ImageRef.parse('acme/web@sha256:123', 'image')).toThrow('image: is not a valid image reference');
  });

  it('knows a floating latest from a digest-pinned one', () => {
    expect(ImageRef.parse('acme/web:latest').isLatest).toBe(true);
    expect(ImageRef.parse(`acme/web:latest@sha256:${'0'.repeat(64)}`).isLatest).toBe(false);
  });
});
