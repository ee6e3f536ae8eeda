namespace TemporalSae.Manifests;

// How a manifest inherits from the base it extends, and how --set overrides apply: mappings merge key by key (the
// child's value wins, nested mappings merge recursively); lists and scalars are replaced whole, so a child that
// sets `stages` gets exactly the stages it lists.

static class ManifestMerge
{
    public static MappingNode Merge(MappingNode parent, MappingNode child)
    {
        var entries = parent.Entries.ToList();
        foreach (var (key, value) in child.Entries)
        {
            int index = entries.FindIndex(e => e.Key.Value == key.Value);
            if (index < 0)
                entries.Add(new(key, value));
            else if (entries[index].Value is MappingNode inherited && value is MappingNode given)
                entries[index] = new(key, Merge(inherited, given));
            else
                entries[index] = new(key, value);
        }
        // A merged mapping is reported where the most specific manifest wrote it; overrides have no such place.
        return new MappingNode(child.Location.IsOverride ? parent.Location : child.Location, entries);
    }
}
