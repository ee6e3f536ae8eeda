// Learning-rate and sparsity-coefficient schedules, as SAELens uses them: linear warm-up of the learning rate,
// constant, then linear decay to zero over the final fraction of steps; linear warm-up of the sparsity coefficient.
using TemporalSae.Manifests;

namespace TemporalSae.Training;

public sealed record Schedules(TrainingConfig Config, long TotalSteps)
{
    public double LearningRate(long step)
    {
        double warm = Config.LrWarmupSteps > 0 ? Math.Min(1.0, (step + 1) / (double)Config.LrWarmupSteps) : 1.0;
        long decaySteps = (long)Math.Round(TotalSteps * Config.LrDecayFraction);
        long decayStart = TotalSteps - decaySteps;
        double decay = decaySteps > 0 && step >= decayStart ? (TotalSteps - step) / (double)decaySteps : 1.0;
        return Config.LearningRate * warm * decay;
    }

    public double Sparsity(long step) =>
        Config.L1Coefficient * (Config.L1WarmupSteps > 0 ? Math.Min(1.0, (step + 1) / (double)Config.L1WarmupSteps) : 1.0);
}
