package io.solvertune.cli;

import java.nio.file.Path;
import picocli.CommandLine;

/** The two teacher trajectory sets a fitting or validating command reads: training seeds and held-out seeds. */
final class TeacherSetOptions {

    @CommandLine.Option(names = "--train", required = true, paramLabel = "DIR", description = "teacher set of the training seeds")
    Path train;

    @CommandLine.Option(names = "--heldout", required = true, paramLabel = "DIR", description = "teacher set of the held-out seeds")
    Path heldout;
}
