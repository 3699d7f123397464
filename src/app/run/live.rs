//! The reply being streamed, as the running step shows it: the calling agent's thinking and
//! answer text so far, gathered from the client's stream pieces.

use crate::core::llm::client::StreamProgress;
use crate::core::llm::stream::StreamDelta;

/// What the current call has streamed so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveReply {
    /// The calling agent (`solver`, `verifier`, `judge`).
    pub agent: String,
    /// The client's round trip it shows ([`StreamProgress::round_trip`]).
    pub round_trip: u64,
    /// Its thinking so far.
    pub thinking: String,
    /// Its answer so far (the structured output's JSON text).
    pub answer: String,
}

impl LiveReply {
    /// Adds a piece; a piece from another agent, or from another round trip of the same call
    /// (a cut stream retried, a re-ask), starts over.
    pub fn add(&mut self, progress: &StreamProgress) {
        let agent = progress.role.as_str();
        if self.agent != agent || self.round_trip != progress.round_trip {
            *self = LiveReply {
                agent: agent.to_string(),
                round_trip: progress.round_trip,
                ..LiveReply::default()
            };
        }
        match &progress.delta {
            StreamDelta::Thinking(text) => self.thinking.push_str(text),
            StreamDelta::Answer(text) => self.answer.push_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::role::AgentRole;

    fn piece(role: AgentRole, delta: StreamDelta) -> StreamProgress {
        StreamProgress {
            role,
            round_trip: 1,
            delta,
        }
    }

    #[test]
    fn pieces_gather_per_agent_and_a_new_agent_starts_over() {
        let mut live = LiveReply::default();
        live.add(&piece(
            AgentRole::Solver,
            StreamDelta::Thinking("Two ".into()),
        ));
        live.add(&piece(
            AgentRole::Solver,
            StreamDelta::Thinking("and two.".into()),
        ));
        live.add(&piece(
            AgentRole::Solver,
            StreamDelta::Answer("{\"solution\"".into()),
        ));
        assert_eq!(live.agent, "solver");
        assert_eq!(live.thinking, "Two and two.");
        assert_eq!(live.answer, "{\"solution\"");
        live.add(&piece(
            AgentRole::Solver,
            StreamDelta::Answer(": \"Four".into()),
        ));
        assert_eq!(live.answer, "{\"solution\": \"Four");
        live.add(&piece(AgentRole::Verifier, StreamDelta::Answer("{".into())));
        assert_eq!(
            live,
            LiveReply {
                agent: "verifier".into(),
                round_trip: 1,
                thinking: String::new(),
                answer: "{".into()
            }
        );
    }

    #[test]
    fn a_new_round_trip_of_the_same_call_starts_over() {
        let mut live = LiveReply::default();
        live.add(&piece(
            AgentRole::Judge,
            StreamDelta::Answer("{\"reas".into()),
        ));
        let mut retry = piece(AgentRole::Judge, StreamDelta::Answer("{".into()));
        retry.round_trip = 2;
        live.add(&retry);
        assert_eq!(live.answer, "{");
        assert_eq!(live.round_trip, 2);
    }
}
