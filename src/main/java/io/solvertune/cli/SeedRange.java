package io.solvertune.cli;

import picocli.CommandLine;

/** {@code FROM:COUNT} seed ranges on the command line, e.g. {@code 0:1000}. */
record SeedRange(long first, int count) {

    static final class Converter implements CommandLine.ITypeConverter<SeedRange> {
        @Override
        public SeedRange convert(String value) {
            String[] p = value.split(":");
            if (p.length != 2) {
                throw new CommandLine.TypeConversionException("expected FIRST:COUNT (e.g. 0:1000), got '" + value + "'");
            }
            try {
                long first = Long.parseLong(p[0].trim());
                int count = Integer.parseInt(p[1].trim());
                if (count < 1) {
                    throw new CommandLine.TypeConversionException("seed count must be >= 1, got " + count);
                }
                return new SeedRange(first, count);
            } catch (NumberFormatException e) {
                throw new CommandLine.TypeConversionException("expected FIRST:COUNT with integers, got '" + value + "'");
            }
        }
    }
}
