// The learning-rate schedule, as SAELens uses it: linear warm-up, constant, then linear decay to zero over the final
// fraction of steps. Loss coefficients have their own warm-ups (LossCoefficient).
using TemporalSae.Manifests;

namespace TemporalSae.Training;

public sealed record LearningRateSchedule(TrainingConfig Config, long TotalSteps)
{
    public double At(long step)
    {
        double warm = Config.LrWarmupSteps > 0 ? Math.Min(1.0, (step + 1) / (double)Config.LrWarmupSteps) : 1.0;
        long decaySteps = (long)Math.Round(TotalSteps * Config.LrDecayFraction);
        long decayStart = TotalSteps - decaySteps;
        double decay = decaySteps > 0 && step >= decayStart ? (TotalSteps - step) / (double)decaySteps : 1.0;
        return Config.LearningRate * warm * decay;
    }
}
