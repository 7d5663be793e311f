//! The Merkle tree of a batch of payloads, as Certificate Transparency builds it (RFC 6962
//! section 2.1, RFC 9162 section 2.1): SHA-256 with a `0x00` prefix for leaves and `0x01` for
//! inner nodes, so a leaf can never pass for an inner node; a level with an odd count passes
//! its last node up unchanged (the RFC's "largest power of two smaller than n" split gives the
//! same tree). A proof for leaf `index` of `count` is the list of sibling hashes from the leaf
//! up; for 4096 leaves it is 12 hashes. Pure functions, no I/O.

use sha2::{Digest, Sha256};

/// A node of the tree.
pub type Hash = [u8; 32];

/// Domain separation (RFC 6962 section 2.1).
const LEAF_PREFIX: u8 = 0x00;
const NODE_PREFIX: u8 = 0x01;

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The next level up: pairs hashed, an odd last node carried over as it is.
fn parent_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [left, right] => node_hash(left, right),
            [lone] => *lone,
            _ => unreachable!("chunks(2) yields one or two"),
        })
        .collect()
}

/// A whole tree, every level kept, so the proofs of all its leaves cost no more hashing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// `levels[0]` are the leaf hashes, the last level is the root alone.
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// The tree over `leaves` (payloads, hashed as leaves here); `None` for an empty batch,
    /// which no block may carry.
    pub fn new<T: AsRef<[u8]>>(leaves: &[T]) -> Option<Tree> {
        let mut level: Vec<Hash> = leaves.iter().map(|leaf| leaf_hash(leaf.as_ref())).collect();
        if level.is_empty() {
            return None;
        }
        let mut levels = Vec::new();
        while level.len() > 1 {
            let parent = parent_level(&level);
            levels.push(level);
            level = parent;
        }
        levels.push(level);
        Some(Tree { levels })
    }

    pub fn root(&self) -> Hash {
        self.levels[self.levels.len() - 1][0]
    }

    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// Every level, leaves first; `levels()[l][i]` is node `i` of level `l`, which storage
    /// keeps so a proof is a few point reads ([`audit_positions`]).
    pub fn levels(&self) -> &[Vec<Hash>] {
        &self.levels
    }

    /// Always false: [`Tree::new`] refuses an empty batch.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The audit path of leaf `index`: sibling hashes from the bottom up, levels where the node
    /// is carried over contributing none. `None` if `index` is out of range.
    pub fn proof(&self, index: usize) -> Option<Vec<Hash>> {
        if index >= self.len() {
            return None;
        }
        let mut position = index;
        let mut path = Vec::new();
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(sibling) = level.get(position ^ 1) {
                path.push(*sibling);
            }
            position /= 2;
        }
        Some(path)
    }
}

/// Where the audit path of leaf `index` of `count` lies in the tree: `(level, node index)` of
/// each sibling, bottom up, as [`Tree::proof`] reads them. Lets a store fetch a path without the
/// rest of the tree. Empty when `index` is out of range.
pub fn audit_positions(index: u64, count: u64) -> Vec<(u8, u64)> {
    let mut positions = Vec::new();
    if index >= count {
        return positions;
    }
    let (mut position, mut width, mut level) = (index, count, 0u8);
    while width > 1 {
        let sibling = position ^ 1;
        if sibling < width {
            positions.push((level, sibling));
        }
        position /= 2;
        width = width.div_ceil(2);
        level += 1;
    }
    positions
}

/// The root's level in a tree of `count` leaves (0 for one leaf; 12 for 4096).
pub fn depth(count: u64) -> u8 {
    let (mut width, mut level) = (count.max(1), 0u8);
    while width > 1 {
        width = width.div_ceil(2);
        level += 1;
    }
    level
}

/// The root over `leaves`; `None` for an empty batch.
pub fn root<T: AsRef<[u8]>>(leaves: &[T]) -> Option<Hash> {
    Tree::new(leaves).map(|tree| tree.root())
}

/// Whether `path` proves `leaf` at `index` in a tree of `count` leaves with root `root`
/// (RFC 9162 section 2.1.3.2). Also false for an index out of range or a path of the wrong
/// length, so every bit of the proof matters.
pub fn verify(root: &Hash, leaf: &[u8], index: u64, count: u64, path: &[Hash]) -> bool {
    if index >= count {
        return false;
    }
    let mut node_index = index;
    let mut last_index = count - 1;
    let mut hash = leaf_hash(leaf);
    for sibling in path {
        if last_index == 0 {
            return false;
        }
        if node_index & 1 == 1 || node_index == last_index {
            hash = node_hash(sibling, &hash);
            // Skip the levels where this node was carried over without a sibling.
            while node_index & 1 == 0 && node_index != 0 {
                node_index >>= 1;
                last_index >>= 1;
            }
        } else {
            hash = node_hash(&hash, sibling);
        }
        node_index >>= 1;
        last_index >>= 1;
    }
    last_index == 0 && hash == *root
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6962's recursive definition, written independently of the level-by-level code above.
    fn rfc_root(leaves: &[[u8; 32]]) -> Hash {
        match leaves.len() {
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = split(n);
                node_hash(&rfc_root(&leaves[..k]), &rfc_root(&leaves[k..]))
            }
        }
    }

    /// RFC 6962 PATH(m, D[n]).
    fn rfc_path(index: usize, leaves: &[[u8; 32]]) -> Vec<Hash> {
        if leaves.len() <= 1 {
            return Vec::new();
        }
        let k = split(leaves.len());
        if index < k {
            let mut path = rfc_path(index, &leaves[..k]);
            path.push(rfc_root(&leaves[k..]));
            path
        } else {
            let mut path = rfc_path(index - k, &leaves[k..]);
            path.push(rfc_root(&leaves[..k]));
            path
        }
    }

    /// The largest power of two smaller than `n` (n > 1).
    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn leaves(count: usize) -> Vec<[u8; 32]> {
        (0..count as u64)
            .map(|i| Sha256::digest(i.to_be_bytes()).into())
            .collect()
    }

    #[test]
    fn matches_the_rfc_definition() {
        for count in (1..=33).chain([100, 4096]) {
            let leaves = leaves(count);
            let root = root(&leaves).unwrap();
            assert_eq!(root, rfc_root(&leaves), "root of {count}");
            for index in [0, count / 2, count - 1] {
                let tree = Tree::new(&leaves).unwrap();
                assert_eq!(tree.proof(index).unwrap(), rfc_path(index, &leaves));
            }
        }
        assert_eq!(root::<[u8; 32]>(&[]), None);
        assert_eq!(Tree::new(&leaves(3)).unwrap().proof(3), None);
    }

    #[test]
    fn every_payload_proves_and_4096_needs_12_hashes() {
        for count in [1usize, 2, 3, 4, 5, 7, 4096] {
            let leaves = leaves(count);
            let tree = Tree::new(&leaves).unwrap();
            let root = tree.root();
            for (index, leaf) in leaves.iter().enumerate() {
                let path = tree.proof(index).unwrap();
                assert!(verify(&root, leaf, index as u64, count as u64, &path));
                if count == 4096 {
                    assert_eq!(path.len(), 12);
                }
            }
        }
    }

    #[test]
    fn any_flipped_bit_fails() {
        let leaves = leaves(3);
        let root = root(&leaves).unwrap();
        let path = Tree::new(&leaves).unwrap().proof(2).unwrap();
        assert!(verify(&root, &leaves[2], 2, 3, &path));
        for bit in 0..256 {
            let flip = |mut hash: Hash| {
                hash[bit / 8] ^= 1 << (bit % 8);
                hash
            };
            assert!(!verify(&flip(root), &leaves[2], 2, 3, &path));
            assert!(!verify(&root, &flip(leaves[2]), 2, 3, &path));
            let mut bad_path = path.clone();
            bad_path[0] = flip(bad_path[0]);
            assert!(!verify(&root, &leaves[2], 2, 3, &bad_path));
        }
        // Index, count and path length are part of the proof too.
        assert!(!verify(&root, &leaves[2], 1, 3, &path));
        assert!(!verify(&root, &leaves[2], 2, 4, &path));
        assert!(!verify(&root, &leaves[2], 3, 3, &path));
        assert!(!verify(&root, &leaves[2], 2, 3, &path[..path.len() - 1]));
        let mut long = path.clone();
        long.push(root);
        assert!(!verify(&root, &leaves[2], 2, 3, &long));
    }

    // Without the prefixes, the inner node over leaves 0-1 could be presented as a "leaf" of a
    // two-leaf tree whose other leaf is the node over 2-3, and prove against the same root.
    #[test]
    fn an_inner_node_cannot_pass_as_a_leaf() {
        let leaves = leaves(4);
        let root = root(&leaves).unwrap();
        let left = node_hash(&leaf_hash(&leaves[0]), &leaf_hash(&leaves[1]));
        let right = node_hash(&leaf_hash(&leaves[2]), &leaf_hash(&leaves[3]));
        assert_eq!(node_hash(&left, &right), root);
        assert!(!verify(&root, &left, 0, 2, &[right]));
        assert!(!verify(&root, &right, 1, 2, &[left]));
    }

    #[test]
    fn audit_positions_name_the_proof_nodes() {
        for count in [1usize, 2, 3, 5, 7, 8, 13, 100] {
            let leaves: Vec<[u8; 1]> = (0..count).map(|i| [i as u8]).collect();
            let tree = Tree::new(&leaves).unwrap();
            for index in 0..count {
                let from_positions: Vec<Hash> = audit_positions(index as u64, count as u64)
                    .into_iter()
                    .map(|(level, node)| tree.levels()[level as usize][node as usize])
                    .collect();
                assert_eq!(
                    Some(from_positions),
                    tree.proof(index),
                    "{index} of {count}"
                );
            }
        }
        assert!(audit_positions(3, 3).is_empty());
        for count in [1u64, 2, 3, 4, 5, 4096, 4097] {
            let leaves: Vec<[u8; 8]> = (0..count).map(u64::to_be_bytes).collect();
            let tree = Tree::new(&leaves).unwrap();
            assert_eq!(
                usize::from(depth(count)) + 1,
                tree.levels().len(),
                "{count}"
            );
        }
        assert_eq!(audit_positions(0, 4096).len(), 12);
    }
}
