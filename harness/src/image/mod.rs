//! The default guest image (docs/qemu.md, "The guest image"): a Debian cloud kernel
//! fetched from the archive, an initramfs with busybox, dropbear and QEMU (see
//! [`initramfs`]), a leaf initramfs without QEMU for the deepest level, and the chain
//! disk that carries both down the stack. Images live in a cache
//! (`$XDG_CACHE_HOME/nestbench`, else `~/.cache/nestbench`) under a digest of their
//! inputs — kernel package and version, the content of every host file that goes in,
//! the init script, this builder's version — so a run reuses the image until one of
//! them changes, and run.json records the digest.

pub mod chaindisk;
pub mod cpio;
pub mod fetch;
pub mod initramfs;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bumped when the image layout or the init contract changes.
const BUILDER_VERSION: &str = "nestbench-image-2";

/// A built image in the cache.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Image {
    /// Directory holding the files below.
    pub dir: PathBuf,
    /// Digest of the inputs (first 16 hex digits of a SHA-256).
    pub digest: String,
    /// Kernel package, e.g. `linux-image-6.1.0-56-cloud-amd64 6.1.192-2`.
    pub kernel_package: String,
    /// Kernel release, e.g. `6.1.0-56-cloud-amd64`.
    pub kernel_release: String,
    /// Seconds the build took (0 when reused).
    #[serde(skip)]
    pub build_s: f64,
}

impl Image {
    /// The guest kernel.
    pub fn kernel(&self) -> PathBuf {
        self.dir.join(chaindisk::VMLINUZ)
    }
    /// The full initramfs.
    pub fn initrd(&self) -> PathBuf {
        self.dir.join(chaindisk::INITRD)
    }
    /// The leaf initramfs (no QEMU).
    pub fn leaf_initrd(&self) -> PathBuf {
        self.dir.join(chaindisk::LEAF_INITRD)
    }
    /// The chain disk.
    pub fn chain_disk(&self) -> PathBuf {
        self.dir.join("chain.img")
    }
}

/// Where images and downloaded packages are cached.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("NESTBENCH_CACHE") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/var/cache"));
    base.join("nestbench")
}

fn hash_file(h: &mut Sha256, path: &Path) -> anyhow::Result<()> {
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        h.update(&buf[..n]);
    }
}

fn digest_of(
    kernel: &fetch::KernelPackage,
    full: &initramfs::Userland,
    leaf: &initramfs::Userland,
) -> anyhow::Result<String> {
    let mut h = Sha256::new();
    h.update(BUILDER_VERSION);
    h.update(format!("\0{}\0{}\0", kernel.name, kernel.version));
    h.update(initramfs::INIT_SH);
    h.update(initramfs::MODULES.join(","));
    for (tag, u) in [("full", full), ("leaf", leaf)] {
        h.update(tag);
        for (dest, src, mode) in &u.files {
            h.update(format!("\0{dest}\0{mode:o}\0"));
            hash_file(&mut h, src)?;
        }
        h.update(u.applets.join(","));
    }
    Ok(hex::encode(h.finalize())[..16].to_string())
}

fn fingerprint(
    kernel: &fetch::KernelPackage,
    full: &initramfs::Userland,
    leaf: &initramfs::Userland,
) -> String {
    use std::os::unix::fs::MetadataExt;
    let mut h = Sha256::new();
    h.update(BUILDER_VERSION);
    h.update(format!("\0{}\0{}\0", kernel.name, kernel.version));
    h.update(initramfs::INIT_SH);
    h.update(initramfs::MODULES.join(","));
    for u in [full, leaf] {
        for (dest, src, mode) in &u.files {
            let (len, mtime) = std::fs::metadata(src).map_or((0, 0), |m| {
                (m.len(), m.mtime_nsec() + m.mtime() * 1_000_000_000)
            });
            h.update(format!(
                "\0{dest}\0{mode:o}\0{}\0{len}\0{mtime}",
                src.display()
            ));
        }
        h.update(u.applets.join(","));
    }
    hex::encode(h.finalize())[..32].to_string()
}

/// The current image: reused from the cache when its inputs are unchanged, else built.
/// `say` gets a few words of progress.
/// What the current inputs call for: the image's digest and cache directory.
struct Wanted {
    cache: PathBuf,
    kernel: fetch::KernelPackage,
    full: initramfs::Userland,
    leaf: initramfs::Userland,
    digest: String,
    dir: PathBuf,
}

fn wanted() -> anyhow::Result<Wanted> {
    let cache = cache_dir();
    let kernel = fetch::resolve_kernel()?;
    let full = initramfs::collect_userland(true)?;
    let leaf = initramfs::collect_userland(false)?;
    // Hashing ~60 MB of host files takes seconds; remember the digest under a
    // fingerprint of their paths, sizes and mtimes, and hash again only when one changes.
    let stamp = fingerprint(&kernel, &full, &leaf);
    let memo = cache.join("digests").join(&stamp);
    let digest = match std::fs::read_to_string(&memo) {
        Ok(d) if d.trim().len() == 16 => d.trim().to_string(),
        _ => {
            let d = digest_of(&kernel, &full, &leaf)?;
            let _ = std::fs::create_dir_all(cache.join("digests"));
            let _ = std::fs::write(&memo, &d);
            d
        }
    };
    let dir = cache.join(format!("image-{digest}"));
    Ok(Wanted {
        cache,
        kernel,
        full,
        leaf,
        digest,
        dir,
    })
}

fn read_built(dir: &Path) -> Option<Image> {
    let text = std::fs::read_to_string(dir.join("image.json")).ok()?;
    let mut img = serde_json::from_str::<Image>(&text).ok()?;
    img.dir = dir.to_path_buf();
    Some(img)
}

/// The image matching the current inputs if it is already built (nothing is built).
pub fn cached() -> anyhow::Result<Option<Image>> {
    let w = wanted()?;
    Ok(read_built(&w.dir))
}

/// The current image: reused from the cache when its inputs are unchanged, else built.
/// `say` gets a few words of progress.
pub fn ensure(say: &mut dyn FnMut(&str)) -> anyhow::Result<Image> {
    let t0 = Instant::now();
    let Wanted {
        cache,
        kernel,
        full,
        leaf,
        digest,
        dir,
    } = wanted()?;
    if let Some(img) = read_built(&dir) {
        return Ok(img);
    }
    say(&format!(
        "building guest image {digest} ({} {})",
        kernel.name, kernel.version
    ));
    std::fs::create_dir_all(&cache)
        .with_context(|| format!("cannot create {}", cache.display()))?;
    let deb = fetch::download(&kernel, &cache.join("debs"))?;
    let work = cache.join(format!("build-{digest}-{}", std::process::id()));
    let result = build_into(&work, &deb, &kernel, &full, &leaf, &digest);
    let img = match result {
        Ok(img) => img,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&work);
            return Err(e);
        }
    };
    let out = work.join("image");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::rename(&out, &dir)
        .with_context(|| format!("cannot move the image to {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(Image {
        dir,
        build_s: t0.elapsed().as_secs_f64(),
        ..img
    })
}

fn build_into(
    work: &Path,
    deb: &Path,
    kernel: &fetch::KernelPackage,
    full: &initramfs::Userland,
    leaf: &initramfs::Userland,
    digest: &str,
) -> anyhow::Result<Image> {
    let unpacked = fetch::unpack(deb, &work.join("kernel"))?;
    let out = work.join("image");
    std::fs::create_dir_all(&out)?;
    std::fs::copy(&unpacked.vmlinuz, out.join(chaindisk::VMLINUZ))?;
    initramfs::write_zstd(
        &initramfs::tree(full, &unpacked)?,
        &out.join(chaindisk::INITRD),
    )?;
    initramfs::write_zstd(
        &initramfs::tree(leaf, &unpacked)?,
        &out.join(chaindisk::LEAF_INITRD),
    )?;
    chaindisk::make(&out, &work.join("chain.img"))?;
    std::fs::rename(work.join("chain.img"), out.join("chain.img"))?;
    let img = Image {
        dir: out.clone(),
        digest: digest.to_string(),
        kernel_package: format!("{} {}", kernel.name, kernel.version),
        kernel_release: unpacked.release.clone(),
        build_s: 0.0,
    };
    std::fs::write(out.join("image.json"), serde_json::to_string_pretty(&img)?)?;
    Ok(img)
}

/// Total size in bytes of the files of `img` (for messages).
pub fn size_bytes(img: &Image) -> u64 {
    std::fs::read_dir(&img.dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}
