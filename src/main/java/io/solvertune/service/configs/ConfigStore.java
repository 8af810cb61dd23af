package io.solvertune.service.configs;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.solvertune.service.persistence.ModelEntity;
import io.solvertune.service.persistence.SolverConfigEntity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.util.ArrayList;
import java.util.List;

/** The versioned config store: every validated candidate becomes the next version of its key. */
@ApplicationScoped
public class ConfigStore implements ConfigPublisher {

    private final EntityManager em;

    public ConfigStore(EntityManager em) {
        this.em = em;
    }

    @Override
    @Transactional
    public List<Long> publish(long jobId, List<ConfigCandidate> candidates) {
        List<Long> already = em.createQuery("SELECT c.id FROM SolverConfigEntity c WHERE "
                + "function('jsonb_extract_path_text', c.provenance, 'jobId') = :job ORDER BY c.id", Long.class)
                .setParameter("job", Long.toString(jobId)).getResultList();
        if (!already.isEmpty()) {
            return already;
        }
        List<Long> ids = new ArrayList<>();
        for (ConfigCandidate c : candidates) {
            if (!c.validated()) {
                continue;
            }
            ModelEntity model = em.find(ModelEntity.class, c.modelId());
            if (model == null) {
                throw new IllegalArgumentException("modelId: no model " + c.modelId());
            }
            // serialise versions of one key: lock the model row (publishing is rare, reading never locks)
            em.lock(model, jakarta.persistence.LockModeType.PESSIMISTIC_WRITE);
            Integer max = em.createQuery("SELECT max(c.version) FROM SolverConfigEntity c WHERE c.model = :m AND "
                    + "c.method = :method AND c.solver = :solver AND c.nfe = :nfe AND c.guidance = :g AND "
                    + "c.spacing = :sp AND c.tStart = :ts AND c.tEnd = :te", Integer.class)
                    .setParameter("m", model).setParameter("method", c.method()).setParameter("solver", c.solver())
                    .setParameter("nfe", c.nfe()).setParameter("g", c.guidance()).setParameter("sp", c.spacing())
                    .setParameter("ts", c.tStart()).setParameter("te", c.tEnd()).getSingleResult();
            SolverConfigEntity e = new SolverConfigEntity();
            e.model = model;
            e.method = c.method();
            e.solver = c.solver();
            e.solverOptions = c.solverOptions() == null ? JsonNodeFactory.instance.objectNode() : c.solverOptions();
            e.nfe = c.nfe();
            e.guidance = c.guidance();
            e.spacing = c.spacing();
            e.tStart = c.tStart();
            e.tEnd = c.tEnd();
            e.version = max == null ? 1 : max + 1;
            e.values = c.values();
            e.metrics = c.metrics();
            ObjectNode prov = c.provenance() != null && c.provenance().isObject()
                    ? ((ObjectNode) c.provenance()).deepCopy() : JsonNodeFactory.instance.objectNode();
            prov.put("jobId", Long.toString(jobId));
            e.provenance = prov;
            e.persist();
            em.flush();
            ids.add(e.id);
        }
        return ids;
    }
}
