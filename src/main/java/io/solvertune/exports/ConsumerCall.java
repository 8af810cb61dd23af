package io.solvertune.exports;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Map;

/**
 * A consumer call that runs exactly a config's validated solver on exactly its grid: what to call, with which
 * arguments, how our initial state goes in and how the consumer's output maps back to our final state, and what
 * time the network receives.
 *
 * @param consumer     the consumer (library and file the call was checked against)
 * @param entryPoint   one line: the class / function / node graph
 * @param arguments    every argument that matters, structured (scheduler config, sigma lists, sampler kwargs, ...)
 * @param code         the copy-pasteable Python (or, for ComfyUI, the node graph) that reproduces the run
 * @param initialScale the consumer's initial state is {@code initialScale * x_T}, where {@code x_T} is the initial
 *                     state of our sampler (for a VP model: the standard-normal noise itself)
 * @param finalScale   our final state is {@code finalScale * output}, output being the consumer's final state
 * @param modelTime    what the network receives as time at each model call, ours against the consumer's
 * @param notes        precision and convention notes (dtype, sigma space, what the consumer rounds)
 * @param upstream     the upstream files (repository@commit:path) the call follows
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ConsumerCall(String consumer, String entryPoint, Map<String, Object> arguments, String code,
                           double initialScale, double finalScale, ModelTime modelTime, List<String> notes,
                           List<String> upstream) {

    public ConsumerCall {
        arguments = arguments == null ? Map.of() : java.util.Collections.unmodifiableMap(
                new java.util.LinkedHashMap<>(arguments));
        notes = notes == null ? List.of() : List.copyOf(notes);
        upstream = upstream == null ? List.of() : List.copyOf(upstream);
    }

    /**
     * The time input of the network at every model call.
     *
     * @param rule         how the consumer computes the network's time from its own state
     * @param ours         the times our validated run passed (in model-input units), in call order
     * @param consumer     the times the consumer passes at the same calls
     * @param maxDeviation {@code max |ours - consumer|}; 0 when the consumer passes our times
     */
    public record ModelTime(String rule, double[] ours, double[] consumer, double maxDeviation) {
    }
}
