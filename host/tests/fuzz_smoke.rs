//! The host fuzz target's checks (`flowtag::fuzz::check`) over a fixed
//! corpus, through the real embedded component, on every `cargo test`:
//! the shipped sample and golden inputs under several worker counts, batch
//! sizes and chunkings, plus deterministic mutations of them.

use std::path::PathBuf;

#[path = "../../tests/support/random.rs"]
mod random;

use random::Random;

fn corpus() -> Vec<Vec<u8>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut inputs = vec![
        Vec::new(),
        b"\n".to_vec(),
        b"\n\n\r\n".to_vec(),
        b"no newline at the end".to_vec(),
        b"\xff\xfe\x00 not utf-8\n".to_vec(),
        b"srcaddr dstaddr\n10.0.0.1 10.0.0.2\nversion srcaddr\n2 10.0.0.3\n".to_vec(),
        br#"{"message":"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK"}"#.to_vec(),
        br#"{"messageType":"DATA_MESSAGE","logEvents":[{"message":"2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK"},{"message":"bad"}]}"#.to_vec(),
        br#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#.to_vec(),
    ];
    let mut files = vec![root.join("samples/flows.log")];
    let mut golden: Vec<PathBuf> = std::fs::read_dir(root.join("tests/golden"))
        .expect("tests/golden")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    golden.sort();
    files.extend(golden);
    for file in files {
        inputs.push(std::fs::read(&file).expect("corpus file"));
    }
    inputs
}

#[test]
fn host_fuzz_checks_hold_on_the_corpus() {
    let corpus = corpus();
    let mut random = Random(0x00f1_0a7a);
    let mut cases = 0;
    for input in &corpus {
        for control in [0u8, 0b0000_0101, 0b0001_0011, 0b1111_1110] {
            let chunk_seed = (random.next() % 256) as u8;
            let mut data = vec![control, chunk_seed];
            data.extend_from_slice(input);
            flowtag::fuzz::check(&data);
            cases += 1;
        }
        // Mutations: flipped bytes, inserted newlines and header-ish words.
        for _ in 0..3 {
            let mut mutated = input.clone();
            for _ in 0..1 + random.next() % 8 {
                if mutated.is_empty() {
                    break;
                }
                let at = (random.next() % mutated.len() as u64) as usize;
                match random.next() % 4 {
                    0 => mutated[at] = (random.next() % 256) as u8,
                    1 => mutated.insert(at, b'\n'),
                    2 => mutated
                        .splice(at..at, b"version srcaddr dstaddr\n".iter().copied())
                        .for_each(drop),
                    _ => {
                        mutated.remove(at);
                    }
                }
            }
            let mut data = vec![(random.next() % 256) as u8, (random.next() % 256) as u8];
            data.extend_from_slice(&mutated);
            flowtag::fuzz::check(&data);
            cases += 1;
        }
    }
    assert!(cases >= 50, "only {cases} cases");
}
