package io.solvertune.service.persistence;

import java.util.Properties;
import org.hibernate.MappingException;
import org.hibernate.engine.spi.SharedSessionContractImplementor;
import org.hibernate.generator.EventType;
import org.hibernate.generator.GeneratorCreationContext;
import org.hibernate.id.OptimizableGenerator;
import org.hibernate.id.enhanced.SequenceStyleGenerator;

/**
 * The id generator of {@link SolverConfigEntity}: {@code solver_configs_seq} in steps of 1 (as migration V7 set it),
 * keeping an id assigned before {@code persist}. An entity whose id is still null gets the sequence's next value, as
 * with {@code @SequenceGenerator}; one whose id was drawn from the sequence beforehand ({@link
 * SolverConfigEntity#nextId}, because its stored document quotes the id and the table refuses UPDATEs) is inserted
 * with it.
 */
public class SolverConfigIdGenerator extends SequenceStyleGenerator {
    /** The sequence. */
    public static final String SEQUENCE = "solver_configs_seq";

    @Override
    public void configure(GeneratorCreationContext context, Properties parameters) throws MappingException {
        parameters.setProperty(SEQUENCE_PARAM, SEQUENCE);
        parameters.setProperty(OptimizableGenerator.INCREMENT_PARAM, "1");
        super.configure(context, parameters);
    }

    @Override
    public boolean allowAssignedIdentifiers() {
        return true;
    }

    @Override
    public Object generate(SharedSessionContractImplementor session, Object owner, Object currentValue,
                           EventType eventType) {
        return currentValue != null ? currentValue : super.generate(session, owner, currentValue, eventType);
    }
}
