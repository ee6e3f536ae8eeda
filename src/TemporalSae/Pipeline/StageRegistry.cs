namespace TemporalSae.Pipeline;

/// <summary>The known stages by name; resolves a manifest's requested stages into dependency order.</summary>
public sealed class StageRegistry
{
    readonly Dictionary<string, Stage> stages = new(StringComparer.Ordinal);

    public StageRegistry(IEnumerable<Stage> all)
    {
        foreach (Stage stage in all)
            if (!stages.TryAdd(stage.Name, stage))
                throw new InvalidOperationException($"stage '{stage.Name}' is registered twice");
    }

    public IReadOnlyCollection<string> Names => stages.Keys;

    /// <summary>The requested stages and everything they depend on, each once, dependencies first.</summary>
    public IReadOnlyList<Stage> Resolve(IEnumerable<string> requested)
    {
        var order = new List<Stage>();
        var state = new Dictionary<string, bool>(); // false: visiting, true: done
        foreach (string name in requested) Visit(name, order, state, requestedBy: null);
        return order;
    }

    void Visit(string name, List<Stage> order, Dictionary<string, bool> state, string? requestedBy)
    {
        if (state.TryGetValue(name, out bool done))
        {
            if (!done) throw new InvalidOperationException($"stage dependency cycle through '{name}'");
            return;
        }
        if (!stages.TryGetValue(name, out Stage? stage))
            throw new Infrastructure.InvalidInputException(
                $"unknown stage '{name}'{(requestedBy is null ? "" : $" (needed by '{requestedBy}')")}; known stages: {string.Join(", ", stages.Keys.Order())}");
        state[name] = false;
        foreach (string dependency in stage.DependsOn) Visit(dependency, order, state, name);
        state[name] = true;
        order.Add(stage);
    }
}
