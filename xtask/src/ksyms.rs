//! Writes the kernel's function symbols into its `.ksyms` section, after linking, so that
//! panic and exception reports print names (format: tessera-platform's `ksyms` module).

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};

/// Builds the table from the image's symbols and writes it into `.ksyms`, in place.
pub fn write_table(image: &mut [u8]) -> Result<(), String> {
    let (table, offset, capacity) = {
        let file = object::File::parse(&*image).map_err(|e| format!("kernel ELF: {e}"))?;
        let section = file
            .section_by_name(".ksyms")
            .ok_or("kernel ELF has no .ksyms section")?;
        let (offset, capacity) = section.file_range().ok_or(".ksyms has no file contents")?;
        let mut symbols: Vec<(u64, u64, String)> = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.address() != 0)
            .filter_map(|s| {
                let name = s.name().ok()?;
                Some((
                    s.address(),
                    s.size(),
                    format!("{:#}", rustc_demangle::demangle(name)),
                ))
            })
            .collect();
        symbols.sort_by_key(|(address, size, _)| (*address, std::cmp::Reverse(*size)));
        symbols.dedup_by_key(|(address, _, _)| *address);
        (encode(&symbols), offset as usize, capacity as usize)
    };
    if table.len() > capacity {
        return Err(format!(
            "the symbol table ({} bytes) does not fit .ksyms ({capacity} bytes): raise ksyms::CAPACITY in tessera-platform",
            table.len()
        ));
    }
    image[offset..offset + table.len()].copy_from_slice(&table);
    Ok(())
}

/// `TSYM`, count, string-table offset, entries {address, size, name offset, name length}, names.
fn encode(symbols: &[(u64, u64, String)]) -> Vec<u8> {
    const HEADER: usize = 12;
    const ENTRY: usize = 24;
    let strings_at = HEADER + symbols.len() * ENTRY;
    let mut table = Vec::with_capacity(strings_at + symbols.len() * 40);
    table.extend_from_slice(b"TSYM");
    table.extend_from_slice(&(symbols.len() as u32).to_le_bytes());
    table.extend_from_slice(&(strings_at as u32).to_le_bytes());
    let mut strings = Vec::new();
    for (address, size, name) in symbols {
        table.extend_from_slice(&address.to_le_bytes());
        table.extend_from_slice(&size.to_le_bytes());
        table.extend_from_slice(&(strings.len() as u32).to_le_bytes());
        table.extend_from_slice(&(name.len() as u32).to_le_bytes());
        strings.extend_from_slice(name.as_bytes());
    }
    table.extend_from_slice(&strings);
    table
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn table_layout() {
        let table = encode(&[(0x1000, 0x20, "a::b".into()), (0x2000, 8, "c".into())]);
        assert_eq!(&table[..4], b"TSYM");
        assert_eq!(u32::from_le_bytes(table[4..8].try_into().unwrap()), 2);
        let strings = u32::from_le_bytes(table[8..12].try_into().unwrap()) as usize;
        assert_eq!(strings, 12 + 2 * 24);
        assert_eq!(
            u64::from_le_bytes(table[12 + 24..12 + 32].try_into().unwrap()),
            0x2000
        );
        assert_eq!(&table[strings..], b"a::bc");
    }
}
